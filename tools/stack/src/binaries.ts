import { execFile } from "node:child_process";
import { existsSync, globSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { PrerequisiteError } from "./errors.ts";

const run = promisify(execFile);

/** The first executable named `name` on PATH or in `extraDirs` (glob patterns allowed). */
export function findBinary(name: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/sbin", "/usr/local/sbin"];
  for (const pattern of extraDirs) dirs.push(...globSync(pattern));
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * `go install module@version` into `<cacheDir>/bin`, for tools the machine lacks. The checksum
 * database may be unreachable where only the module proxy is, hence GOSUMDB=off unless set.
 */
export async function goInstall(cacheDir: string, binary: string, module: string, installHint: string): Promise<string> {
  const bin = path.join(cacheDir, "bin");
  const target = path.join(bin, binary);
  if (existsSync(target)) return target;
  if (!findBinary("go", ["/usr/local/go/bin"])) {
    throw new PrerequisiteError(`${binary} is not installed and Go is missing to build it: ${installHint}`);
  }
  const go = findBinary("go", ["/usr/local/go/bin"])!;
  process.stderr.write(`stack: building ${binary} with go install ${module} (once, into ${bin})\n`);
  await run(go, ["install", module], {
    env: { ...process.env, GOBIN: bin, GOSUMDB: process.env.GOSUMDB ?? "off", GOFLAGS: "-mod=mod" },
    maxBuffer: 64 * 1024 * 1024,
  });
  return target;
}
