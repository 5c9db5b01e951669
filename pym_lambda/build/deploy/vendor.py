"""What the Lambda package gets of pym_lambda, and what requirements.txt must give it.

Chalice ships app.py, chalicelib/, vendor/ and the distributions requirements.txt names
(pip-installed for the Lambda platform, native wheels included). pym-lambda is not on a
package index, so at each build the framework's runtime is copied into vendor/pym_lambda,
unless requirements.txt itself asks for a pym-lambda distribution: then Chalice installs that
one and the copy is removed (two copies would shadow each other).

Only the runtime is copied: pym_lambda/ without its build side (pym_lambda/build/: spec
compiling, deploy, CLI, scaffold, local service) and its pytest plugin (pym_lambda/testing/),
and without the docs page's assets (3 MB) when the stage disables `/doc`. The wall is
checked, not trusted: a copied module that imports a left-out one fails the build, save the
one development bridge (DEVELOPMENT_BRIDGE), which never runs in a Lambda package.

The framework's own dependencies come through requirements.txt (that is how Chalice gets
Lambda-platform wheels): the build names each line missing for what this service uses, e.g.
`pyjwt[crypto]` once a key is asymmetric, rather than a 500 at the first request on AWS.
"""
from __future__ import annotations

import ast
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

from ...runtime.compiled_types import CompiledDocument
from ..openapi.patterns import re2_uses
from .errors import DeployError

STEP = "build"
FRAMEWORK = "pym-lambda"
VENDOR_DIR = Path("vendor") / "pym_lambda"

# The subtrees of pym_lambda/ that are not the runtime: the build side and the pytest plugin.
LEFT_OUT = frozenset({"build", "testing"})
DOCS_ASSETS = "docs/static"
# The runtime's one import of the build side: the development fallback of runtime/app.py's
# load_compiled(), which compiles apis/ when the project tree has it (chalice local, tests).
# A Lambda package has no apis/ (Chalice ships app.py, chalicelib/ and vendor/ only).
DEVELOPMENT_BRIDGE = ("pym_lambda.runtime.app", "pym_lambda.build.compiled_form")


def normalise(name: str) -> str:
    """PEP 503: PyJWT, pyjwt and py_jwt are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


# --- requirements.txt --------------------------------------------------------------------------

# pyjwt below 2.15 raises RecursionError/OverflowError (not PyJWTError) on crafted tokens;
# the runtime turns those into a 401 too (auth/tokens.py), but the floor keeps pyjwt's own
# contract. A requirement must bound the version at or above it.
FLOORS = {"pyjwt": "2.15"}
_LOWER_BOUNDS = (">=", "==", "~=", ">", "===")


def read_requirements(path: Path, _seen: Optional[Set[Path]] = None) -> Dict[str, FrozenSet[str]]:
    """Distribution name -> extras asked for, from a requirements file and the files it
    includes (`-r other.txt`), as pip reads it; comments and options are ignored."""
    return {name: extras for name, (extras, _) in _read(path, _seen).items()}


def below_floor(path: Path) -> List[str]:
    """The FLOORS distributions the file names without a lower bound at or above the floor."""
    from packaging.version import InvalidVersion, Version

    problems = []
    for name, (_, specifiers) in _read(path).items():
        floor = FLOORS.get(name)
        if floor is None:
            continue
        bounds = []
        for spec in specifiers:
            try:
                bounds += [Version(spec.version.rstrip(".*"))] \
                    if spec.operator in _LOWER_BOUNDS else []
            except InvalidVersion:
                continue
        if not bounds or max(bounds) < Version(floor):
            problems.append(f"{name}>={floor} (older versions crash on crafted tokens)")
    return problems


Specifiers = Tuple[Any, ...]  # packaging Specifier objects


def _read(path: Path, _seen: Optional[Set[Path]] = None
          ) -> Dict[str, Tuple[FrozenSet[str], Specifiers]]:
    from packaging.requirements import InvalidRequirement, Requirement

    seen = _seen if _seen is not None else set()
    if path in seen or not path.is_file():
        return {}
    seen.add(path)
    found: Dict[str, Tuple[FrozenSet[str], Specifiers]] = {}
    for number, raw in enumerate(_logical_lines(path.read_text(encoding="utf-8")), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        include = re.match(r"^(?:-r|--requirement)(?:\s+|=)(\S+)$", line)
        if include:
            for name, (extras, specs) in _read(path.parent / include.group(1), seen).items():
                _add(found, name, extras, specs)
            continue
        if line.startswith("-"):
            continue  # --index-url, -e, --hash...: pip's options, not requirements
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            raise DeployError(STEP, f"{path.name}: line {number}: {exc}") from None
        _add(found, normalise(requirement.name), frozenset(requirement.extras),
             tuple(requirement.specifier))
    return found


def _add(found: Dict[str, Tuple[FrozenSet[str], Specifiers]], name: str,
         extras: FrozenSet[str], specs: Specifiers) -> None:
    old_extras, old_specs = found.get(name, (frozenset(), ()))
    found[name] = (old_extras | extras, old_specs + specs)


def _logical_lines(text: str) -> List[str]:
    return text.replace("\\\n", "").splitlines()


@dataclass(frozen=True)
class Need:
    """A distribution the Lambda imports for this service, and why."""
    line: str  # as a user would write it in requirements.txt
    why: str

    def satisfied_by(self, requirements: Dict[str, FrozenSet[str]]) -> bool:
        from packaging.requirements import Requirement

        wanted = Requirement(self.line)
        name = normalise(wanted.name)
        if name in requirements and set(wanted.extras) <= requirements[name]:
            return True
        # pyjwt[crypto] is pyjwt plus cryptography: both listed is as good.
        return name == "pyjwt" and "crypto" in wanted.extras and "pyjwt" in requirements \
            and "cryptography" in requirements


ASYMMETRIC_PREFIXES = ("RS", "PS", "ES", "EdDSA")


def runtime_needs(settings: Any, compiled: CompiledDocument) -> List[Need]:
    """What the runtime of this service imports besides the standard library and boto3."""
    needs: List[Need] = []
    jwt = settings.jwt
    asymmetric = any(a.startswith(ASYMMETRIC_PREFIXES) for a in jwt.algorithms) or any(
        (jwt.public_key, jwt.public_key_file, jwt.private_key, jwt.private_key_file,
         jwt.jwks_url, jwt.jwks_file))
    protected = any(op.get("security") for api in compiled.get("apis", [])
                    for op in api.get("operations", []))
    if asymmetric:
        needs.append(Need("pyjwt[crypto]", "pym-config.yaml jwt: asymmetric keys or JWKS "
                                           "(cryptography)"))
    elif jwt.secret or protected:
        needs.append(Need("pyjwt", "JWT verification and generate_token()"))
    clients = bool(settings.clients) or any(a.get("bind_client") for a in compiled.get("apis", []))
    if clients:  # a JWKS URL is fetched by PyJWT's PyJWKClient (urllib)
        needs.append(Need("requests", "typed clients"))
    # no openapi-schema-validator: schemas the prebuilt checks lack run on schema_engine
    regexes = re2_uses(compiled.get("apis", []))
    if regexes:
        needs.append(Need("google-re2", f"{regexes} spec regex(es) (pattern, patternProperties, "
                                        "format: regex), run on RE2"))
    if settings.docs.enabled:
        needs.append(Need("pyyaml", "the docs page's /doc/<api>.json and .yaml copies"))
    return needs


def missing_needs(project_dir: Path, needs: Iterable[Need]) -> List[str]:
    requirements = read_requirements(project_dir / "requirements.txt")
    missing = [f"{need.line} ({need.why})" for need in needs
               if not need.satisfied_by(requirements)]
    return missing + below_floor(project_dir / "requirements.txt")


def framework_from_requirements(project_dir: Path) -> bool:
    return normalise(FRAMEWORK) in read_requirements(project_dir / "requirements.txt")


# --- the copy ----------------------------------------------------------------------------------

def framework_root() -> Path:
    import pym_lambda

    return Path(pym_lambda.__file__).parent


def runtime_files(root: Path, with_docs_assets: bool) -> List[Path]:
    """The framework's files a Lambda may read, relative to `root`, sorted."""
    left_out = set(LEFT_OUT) | (set() if with_docs_assets else {DOCS_ASSETS})
    files: List[Path] = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        parts = relative.parts
        if not path.is_file() or any(_skipped(p) for p in parts):
            continue
        if any("/".join(parts[:n]) in left_out for n in range(1, len(parts) + 1)):
            continue
        files.append(relative)
    return files


def _skipped(part: str) -> bool:
    return part == "__pycache__" or part.endswith((".pyc", ".pyo")) or part == "py.typed"


def module_name(relative: Path) -> str:
    parts = ["pym_lambda", *relative.with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool) -> Set[str]:
    """Every pym_lambda module `source` imports, at any depth (lazy imports in functions and
    the `_LAZY` tables of PEP 562 packages included)."""
    package = module if is_package else module.rpartition(".")[0]
    found: Set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and any(
                isinstance(t, ast.Name) and t.id == "_LAZY" for t in node.targets):
            found.update(f"{package}.{v.value}" for v in node.value.values
                         if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return {name for name in found if name == "pym_lambda" or name.startswith("pym_lambda.")}


def wall_problems(root: Path, files: List[Path]) -> List[str]:
    """Copied modules that import a module left out of the copy (the development bridge
    aside)."""
    copied = {module_name(f) for f in files if f.suffix == ".py"}
    every = {module_name(f.relative_to(root)) for f in root.rglob("*.py")
             if "__pycache__" not in f.parts}
    problems: List[str] = []
    for relative in files:
        if relative.suffix != ".py":
            continue
        name = module_name(relative)
        source = (root / relative).read_text(encoding="utf-8")
        for target in sorted(imported_modules(source, name, relative.name == "__init__.py")):
            # `from .x import y` names y, which may be an attribute, not a module
            if target in every and target not in copied \
                    and (name, target) != DEVELOPMENT_BRIDGE:
                problems.append(f"pym_lambda/{relative} imports {target}, which the Lambda "
                                "package leaves out")
    return problems


@dataclass(frozen=True)
class VendorResult:
    vendored: bool
    files: int = 0
    size: int = 0
    docs_assets: bool = False

    def describe(self) -> str:
        if not self.vendored:
            return "pym_lambda: installed from requirements.txt"
        return (f"pym_lambda: {self.files} runtime files ({self.size / 1024:.0f} KiB) copied "
                "into vendor/" + ("" if self.docs_assets else ", docs assets left out (/doc "
                                  "is disabled)"))


def vendor_framework(project_dir: Path, with_docs_assets: bool) -> VendorResult:
    """Copy the framework's runtime into vendor/pym_lambda, anew (it is the version that
    compiled the specs), or remove a stale copy when requirements.txt installs pym-lambda."""
    target = project_dir / VENDOR_DIR
    try:
        if target.exists():
            shutil.rmtree(target)
    except OSError as exc:
        raise DeployError(STEP, f"cannot remove {target}: {exc}") from None
    if framework_from_requirements(project_dir):
        return VendorResult(vendored=False)
    root = framework_root()
    files = runtime_files(root, with_docs_assets)
    problems = wall_problems(root, files)
    if problems:
        raise DeployError(STEP, "; ".join(problems))
    size = 0
    try:
        for relative in files:
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / relative, destination)
            size += destination.stat().st_size
    except OSError as exc:
        raise DeployError(STEP, f"cannot copy pym_lambda into {target}: {exc}") from None
    return VendorResult(vendored=True, files=len(files), size=size,
                        docs_assets=with_docs_assets)


def describe_missing(missing: List[str]) -> Tuple[str, str]:
    """The build error for requirements.txt lines that are missing, and its hint."""
    return (f"requirements.txt lacks what the Lambda imports: {'; '.join(missing)}",
            "add these lines to requirements.txt (Chalice installs them into the package, "
            "with wheels for the Lambda platform)")
