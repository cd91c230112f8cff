/** Where git over HTTP serves application repositories, under the bot's own address. */
export const gitPathPrefix = "/git/";

/** The URL a git client clones an application from, like `https://bot.example.com/git/acme/www.git`. */
export function cloneUrl(baseUrl: string, appRef: string): string {
  return `${baseUrl.replace(/\/+$/, "")}${gitPathPrefix}${appRef}.git`;
}
