/**
 * What git over HTTP needs of storage to run git itself: processes started as the repositories
 * start theirs (isolated environment, streamed), and the private directory its push hooks live in.
 */
export { startGit, type GitExit, type GitProcess, type StartGitOptions } from "../repos/git-processes.ts";
export { makePrivateDirectory, removeDirectoriesOfEndedProcesses } from "../repos/private-directories.ts";
