#!/usr/bin/env python3
"""The Dockerfile, checked without a Docker daemon (this build environment has
none, so the image itself is not built here):

- two stages: builder FROM debian:12 running scripts/setup.sh, runtime FROM
  debian:12-slim; the runtime runs as a non-root USER with ENTRYPOINT spotkeeper;
- the runtime stage's apt-get install list names the package of every library
  the built binaries link directly (readelf NEEDED, mapped with dpkg -S), and
  every library `ldd` loads is in that list's dependency closure (dpkg-query),
  plus ca-certificates;
- .dockerignore keeps build trees, tools and .git out and the sources in, and
  the builder's cmake command configures a copy of exactly that build context,
  where `ninja -n spotkeeper spotkeeper-watch` finds every input (nothing is
  compiled);
- spotkeeper-watch (the agent's watcher) is built and copied beside
  spotkeeper, and the runtime packages cover its libraries too.

usage: dockerfile_test.py --dockerfile FILE --dockerignore FILE --binary BUILT_SPOTKEEPER
"""
import argparse
import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import sys
import unittest

ARGS = None


def instructions(text):
    """[(INSTRUCTION, argument)] with continuation lines joined, comments dropped."""
    out, pending = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def stages(text):
    """[[(INSTRUCTION, argument)]], one list per FROM."""
    result = []
    for ins in instructions(text):
        if ins[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(ins)
    return result


def apt_install_packages(run_argument):
    """Package names of every `apt-get install` in one RUN argument."""
    packages = []
    for command in re.split(r"&&|;", run_argument):
        words = command.split()
        if "apt-get" in words and "install" in words:
            packages += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    return packages


def packages_of(paths):
    """{path: Debian package owning it}, in one dpkg query (usrmerge: /lib or /usr/lib)."""
    candidates = {}
    for path in paths:
        real = os.path.realpath(path)
        for c in (path, real, re.sub(r"^/usr/", "/", real), re.sub(r"^/(lib|bin)", r"/usr/\1", path)):
            candidates.setdefault(c, path)
    r = subprocess.run(["dpkg", "-S", *candidates], capture_output=True, text=True)
    owner = {}
    for line in r.stdout.splitlines():
        pkgs, _, file = line.partition(": ")
        if file in candidates:
            owner.setdefault(candidates[file], pkgs.split(",")[0].split(":")[0].strip())
    missing = [p for p in paths if p not in owner]
    if missing:
        raise AssertionError(f"no Debian package owns {missing}")
    return owner


def depends_closure(packages):
    """The packages and everything they (pre-)depend on, as installed here."""
    r = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${Pre-Depends}, ${Depends}\n"],
                       capture_output=True, text=True, check=True)
    deps = {}
    for line in r.stdout.splitlines():
        name, _, rest = line.partition("\t")
        deps[name] = rest
    seen, todo = set(), list(packages)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        for clause in deps.get(p, "").split(","):
            for alternative in clause.split("|"):
                name = re.sub(r"\(.*?\)", "", alternative).strip().split(":")[0]
                if name:
                    todo.append(name)
    return seen


def ldd_libraries(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    return {m.group(1): m.group(2) for m in re.finditer(r"^\s*(\S+) => (/\S+)", out, re.M)}


def needed(binary):
    out = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True,
                         check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out)


def dockerignore_excludes(patterns, path):
    """Docker's rule: the last matching pattern wins; a pattern matches a path or any parent."""
    excluded = False
    parts = path.split("/")
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern.lstrip("!").strip("/")
        if any(fnmatch.fnmatchcase("/".join(parts[:i]), pat) for i in range(1, len(parts) + 1)):
            excluded = not negate
    return excluded


def copy_build_context(root, patterns, target):
    """Copies what `docker build` would send (the files .dockerignore lets through)."""
    negations = [p.lstrip("!").strip("/") for p in patterns if p.startswith("!")]
    for d, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(d, root)
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        # Prune excluded directories nothing below is re-included from.
        dirs[:] = [x for x in dirs
                   if not dockerignore_excludes(patterns, rel_dir + x)
                   or any(n.startswith(rel_dir + x + "/") for n in negations)]
        for f in files:
            rel = rel_dir + f
            if not dockerignore_excludes(patterns, rel):
                os.makedirs(os.path.join(target, os.path.dirname(rel)), exist_ok=True)
                shutil.copy2(os.path.join(root, rel), os.path.join(target, rel))


def watch_binary():
    """spotkeeper-watch, built beside the spotkeeper binary under test."""
    return os.path.join(os.path.dirname(ARGS.binary), "spotkeeper-watch")


class DockerfileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(ARGS.dockerfile) as f:
            cls.stages = stages(f.read())
        cls.runtime = cls.stages[-1]
        cls.runtime_packages = []
        for word, arg in cls.runtime:
            if word == "RUN":
                cls.runtime_packages += apt_install_packages(arg)

    def test_multi_stage_from_debian_12(self):
        self.assertGreaterEqual(len(self.stages), 2)
        self.assertEqual(self.stages[0][0][1].split()[0], "debian:12")
        self.assertEqual(self.runtime[0][1].split()[0], "debian:12-slim")

    def test_builder_uses_the_setup_script(self):
        runs = " ".join(arg for word, arg in self.stages[0] if word == "RUN")
        self.assertIn("SPK_SETUP_PACKAGES_ONLY=1 bash scripts/setup.sh", runs)
        setup = os.path.join(os.path.dirname(ARGS.dockerfile), "scripts", "setup.sh")
        with open(setup) as f:
            self.assertIn("SPK_SETUP_PACKAGES_ONLY", f.read())

    def test_runs_as_non_root(self):
        users = [arg for word, arg in self.runtime if word == "USER"]
        self.assertTrue(users, "the runtime stage has no USER")
        user = users[-1].split(":")[0]
        self.assertNotIn(user, ("root", "0"))
        # USER must come after the last RUN that needs root (apt-get) and stay in force.
        last_user = max(i for i, (w, _) in enumerate(self.runtime) if w == "USER")
        self.assertFalse(any(w == "RUN" for w, _ in self.runtime[last_user:]))

    def test_entrypoint_is_spotkeeper(self):
        entry = [arg for word, arg in self.runtime if word == "ENTRYPOINT"]
        self.assertEqual(len(entry), 1)
        argv = json.loads(entry[0])
        self.assertEqual(argv, ["/usr/local/bin/spotkeeper"])
        copies = [arg for word, arg in self.runtime if word == "COPY"]
        self.assertTrue(any(c.startswith("--from=builder") and c.endswith(argv[0])
                            for c in copies), copies)

    def test_watch_binary_is_beside_spotkeeper(self):
        copies = [arg for word, arg in self.runtime if word == "COPY"]
        self.assertIn("--from=builder /out/spotkeeper-watch /usr/local/bin/spotkeeper-watch",
                      copies)
        builds = " ".join(arg for word, arg in self.stages[0] if word == "RUN")
        self.assertIn("ninja -C /out spotkeeper spotkeeper-watch", builds)
        self.assertTrue(os.access(watch_binary(), os.X_OK), watch_binary())

    def test_runtime_packages_cover_every_library(self):
        self.assertIn("ca-certificates", self.runtime_packages)
        self.assertIn("libcurl.so.4", needed(ARGS.binary))
        self.assertIn("libevent-2.1.so.7", needed(watch_binary()))
        closure = depends_closure(self.runtime_packages)
        for binary in (ARGS.binary, watch_binary()):
            libs = ldd_libraries(binary)
            owner = packages_of(list(libs.values()))
            for soname in needed(binary):
                self.assertIn(soname, libs, f"ldd does not resolve {soname} of {binary}")
                pkg = owner[libs[soname]]
                self.assertIn(pkg, self.runtime_packages,
                              f"{soname} comes from {pkg}, missing in the runtime apt-get install")
            for soname, path in libs.items():
                self.assertIn(owner[path], closure,
                              f"{soname} ({owner[path]}) is not installed by the runtime stage")

    def test_coverage_check_can_fail(self):
        # Without libcurl4 the closure lacks libcurl's package: the check above would fail.
        reduced = [p for p in self.runtime_packages if p != "libcurl4"]
        curl = ldd_libraries(ARGS.binary)["libcurl.so.4"]
        self.assertEqual(packages_of([curl])[curl], "libcurl4")
        self.assertNotIn("libcurl4", depends_closure(reduced))

    def test_dockerignore(self):
        with open(ARGS.dockerignore) as f:
            patterns = [l.strip() for l in f if l.strip() and not l.startswith("#")]
        for path in ("build/spotkeeper", "build-package/build.ninja", ".git/HEAD",
                     "tools/bin/aws-lambda-rie", "README.md", "tests/integration/agent_test.cc"):
            self.assertTrue(dockerignore_excludes(patterns, path), f"{path} is sent to docker")
        root = os.path.dirname(os.path.abspath(ARGS.dockerfile))
        wanted = ["CMakeLists.txt", "scripts/setup.sh"]
        for top in ("src", "cmake"):
            for d, _, files in os.walk(os.path.join(root, top)):
                wanted += [os.path.relpath(os.path.join(d, f), root) for f in files]
        self.assertGreater(len(wanted), 50)
        for path in wanted:
            self.assertFalse(dockerignore_excludes(patterns, path), f"{path} is not sent to docker")


    def test_builder_configures_the_build_context(self):
        root = os.path.dirname(os.path.abspath(ARGS.dockerfile))
        with open(ARGS.dockerignore) as f:
            patterns = [l.strip() for l in f if l.strip() and not l.startswith("#")]
        runs = [arg for word, arg in self.stages[0] if word == "RUN" and "cmake -S ." in arg]
        self.assertEqual(len(runs), 1, "the builder has one RUN with the cmake configure")
        cmake = next(c for c in runs[0].split("&&") if "cmake -S ." in c)
        argv = shlex.split(cmake)
        self.assertEqual(argv[argv.index("-B") + 1], "/out")
        with tempfile.TemporaryDirectory(prefix="spk-docker-context-") as tmp:
            context, out = os.path.join(tmp, "src"), os.path.join(tmp, "out")
            copy_build_context(root, patterns, context)
            self.assertFalse(os.path.exists(os.path.join(context, "build")))
            argv[argv.index("-B") + 1] = out
            r = subprocess.run(argv, cwd=context, capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            r = subprocess.run(["ninja", "-C", out, "-n", "spotkeeper", "spotkeeper-watch"],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--dockerfile", required=True)
    parser.add_argument("--dockerignore", required=True)
    parser.add_argument("--binary", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], "-v", *rest])


if __name__ == "__main__":
    main()
