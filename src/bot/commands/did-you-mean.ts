/**
 * "Did you mean": the declared command names nearest to what was typed, by edit distance over
 * as many words as each name has (`ap list` → `app list`, `hlep` → `help`).
 */
export function nearestNames(words: string[], names: readonly string[]): string[] {
  const said = words.map((word) => word.toLowerCase());
  let best = Number.POSITIVE_INFINITY;
  let nearest: string[] = [];
  for (const name of names) {
    const typed = said.slice(0, name.split(" ").length).join(" ");
    const distance = editDistance(typed, name);
    // Close enough to be a slip, not a different word: at most 2 edits, and fewer than half the name.
    if (distance === 0 || distance > 2 || distance * 2 >= name.length) continue;
    if (distance < best) {
      best = distance;
      nearest = [name];
    } else if (distance === best) {
      nearest.push(name);
    }
  }
  return nearest.slice(0, 3);
}

/** Edits (insert, delete, substitute, swap two neighbours) that turn one text into the other. */
export function editDistance(from: string, to: string): number {
  const rows = from.length + 1;
  const columns = to.length + 1;
  const distance: number[][] = Array.from({ length: rows }, (_, row) => Array.from({ length: columns }, (_, column) => (row === 0 ? column : column === 0 ? row : 0)));
  for (let row = 1; row < rows; row += 1) {
    for (let column = 1; column < columns; column += 1) {
      const cost = from[row - 1] === to[column - 1] ? 0 : 1;
      let cell = Math.min(distance[row - 1]![column]! + 1, distance[row]![column - 1]! + 1, distance[row - 1]![column - 1]! + cost);
      if (row > 1 && column > 1 && from[row - 1] === to[column - 2] && from[row - 2] === to[column - 1]) cell = Math.min(cell, distance[row - 2]![column - 2]! + 1);
      distance[row]![column] = cell;
    }
  }
  return distance[rows - 1]![columns - 1]!;
}
