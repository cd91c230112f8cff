/** Base of the errors core throws; surfaces turn them into short answers. */
export abstract class CoreError extends Error {
  abstract readonly kind: "not_found" | "forbidden" | "invalid" | "conflict" | "already_done" | "unavailable";

  // Messages often repeat what the user typed; control characters in it are made visible.
  constructor(message: string) {
    super(message.replace(/\p{Cc}/gu, "\uFFFD"));
  }
}

/** The thing does not exist, or the actor may not know that it does. */
export class NotFound extends CoreError {
  readonly kind = "not_found";
  override name = "NotFound";
}

/** The actor is a member but their role does not allow the action. */
export class Forbidden extends CoreError {
  readonly kind = "forbidden";
  override name = "Forbidden";
}

/** The input is malformed; `field` names the argument or modal field at fault. */
export class Invalid extends CoreError {
  readonly kind = "invalid";
  override name = "Invalid";
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The input is well formed but clashes with what exists; `field` names the argument that clashes. */
export class Conflict extends CoreError {
  readonly kind = "conflict";
  override name = "Conflict";
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The same request was carried out before (a form submitted twice); nothing changed now. */
export class AlreadyDone extends CoreError {
  readonly kind = "already_done";
  override name = "AlreadyDone";
}

/**
 * The application's repository is not on disk (lost, or not yet restored): its commands cannot
 * run until an operator puts it back. Nothing was changed.
 */
export class RepositoryMissing extends CoreError {
  readonly kind = "unavailable";
  override name = "RepositoryMissing";
  constructor(
    /** `org/app`. */
    readonly ref: string,
  ) {
    super(`the repository of ${ref} is missing; restore it from a backup`);
  }
}
