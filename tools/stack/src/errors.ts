/** Something the stack needs and cannot provision itself; its message names what to install or set. */
export class PrerequisiteError extends Error {
  override name = "PrerequisiteError";
}
