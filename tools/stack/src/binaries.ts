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
 * `go install module@version` into `<cacheDir>/bin`, for tools the machine lacks. `module` names a
 * pinned version (never "latest"); the checksum database stays on (Go reaches it through the module
 * proxy when sum.golang.org is not).
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
    env: { ...process.env, GOBIN: bin, GOFLAGS: "-mod=mod" },
    maxBuffer: 64 * 1024 * 1024,
  });
  return target;
}

/**
 * A tool built by one of `scripts/build-*.sh` (once, cached in settings' cacheDir): `envVar` when set,
 * else the script's cached or new build. A failed build names what to do instead.
 */
export async function scriptBuiltBinary(root: string, cacheDir: string, tool: { name: string; script: string; envVar: string; instead: string }): Promise<string> {
  const given = process.env[tool.envVar];
  if (given) return given;
  try {
    const { stdout } = await run("bash", [path.join(root, "scripts", tool.script)], {
      env: { ...process.env, BAZAAR_CACHE: cacheDir },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout.trim().split("\n").at(-1)!;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    const reason = stderr.trim().split("\n").at(-1) ?? String(error);
    throw new PrerequisiteError(`${tool.name} could not be built (${reason}): ${tool.instead}`);
  }
}
