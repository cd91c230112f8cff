// What a repository edgebot keeps may hold, whoever writes it (an edit, a push, a promotion):
// the paths git's own `verify_path` and fsck refuse on any system a clone may land on, no
// submodules or symlinks, and text without control characters. Pure rules, no git here.

/** The largest file edgebot reads to show, edit or check as text (SPEC §7). */
export const maxTextFileBytes = 1024 * 1024;

// Code points HFS+ ignores in names, so `.g\u200cit` is `.git` on a Mac (git's `next_hfs_char`).
const hfsIgnorable = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/gu;

/**
 * What is wrong with one segment of a path, or undefined when any system keeps it as a plain
 * name. Refused: empty, `.`, `..`, control characters, and whatever names git's own directory
 * or `.gitmodules` once case is folded, HFS+ ignorable code points dropped and NTFS's trailing
 * dots and spaces, alternate streams (`:…`) and short names (`git~1`) taken into account.
 */
export function pathSegmentProblem(segment: string): string | undefined {
  if (segment === "" || segment === "." || segment === "..") return "has an empty, . or .. part";
  if (/\p{Cc}/u.test(segment)) return "holds a control character";
  const folded = segment.replace(hfsIgnorable, "").toLowerCase();
  // NTFS drops trailing dots and spaces, and reads what follows a colon as a stream of the file.
  const ntfs = folded.replace(/:.*$/su, "").replace(/[. ]+$/u, "");
  if (ntfs === ".git" || ntfs === "git~1") return "names git's own directory (.git), which a repository cannot hold";
  if (ntfs === ".gitmodules" || /^gitmod~[1-4]$/u.test(ntfs) || isNtfsFallbackShortName(ntfs, "gi7eba")) {
    return "names .gitmodules: submodules are not kept here";
  }
  return undefined;
}

/** What is wrong with a path of a tree (segments split at `/`, and at `\`, a separator on Windows), or undefined. */
export function treePathProblem(path: string): string | undefined {
  for (const segment of path.split(/[/\\]/u)) {
    const problem = pathSegmentProblem(segment);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** What is wrong with a tree entry's mode: only files, executables and directories are kept. */
export function treeModeProblem(mode: string): string | undefined {
  if (mode === "100644" || mode === "100755" || mode === "40000" || mode === "040000") return undefined;
  if (mode === "120000") return "is a symbolic link: links are not kept here, commit the file itself";
  if (mode === "160000") return "is a submodule: submodules are not kept here";
  return `has mode ${mode}, which git does not write`;
}

/**
 * The text of a file's bytes, or undefined when it is binary: not UTF-8, or holding a NUL byte.
 * Text is what edgebot shows and edits; binary files (images) are kept as they are.
 */
export function asText(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

// Tab, newline and carriage return are text; every other C0 or C1 control, and DEL, is not.
const controlCharacter = /[\p{Cc}]/u;
const allowedControls = new Set(["\t", "\n", "\r"]);

/** Where text holds a control character other than tab, newline or carriage return ("line 3 holds U+001B"), or undefined. */
export function controlCharacterProblem(text: string): string | undefined {
  if (!controlCharacter.test(text)) return undefined;
  let line = 1;
  for (const character of text) {
    if (character === "\n") line += 1;
    else if (controlCharacter.test(character) && !allowedControls.has(character)) {
      return `line ${line} holds the control character U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")} (only tab and newline are allowed)`;
    }
  }
  return undefined;
}

// NTFS's fall-back 8.3 name of a long name: up to six characters of a hash prefix, `~`, a digit 1-9, digits (git's `is_ntfs_dot_generic`).
function isNtfsFallbackShortName(name: string, prefix: string): boolean {
  if (name.length !== 8) return false;
  const tilde = name.indexOf("~");
  if (tilde === -1 || tilde > 6) return false;
  return prefix.startsWith(name.slice(0, tilde)) && /^~[1-9][0-9]*$/u.test(name.slice(tilde));
}
