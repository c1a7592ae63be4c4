"""Check that the built API pages document every public method and property of each class.

Run after the HTML build::

    python -m sphinx -W --keep-going -q -b html docs docs/_build/html
    python docs/check_api_pages.py docs/_build/html

For every class page in ``gen_modules/`` it lists the members the class template promises
(public methods and properties, inherited ones included, less those of the classes named in the
template's ``:inherited-members:`` option and scikit-learn's generated ``set_*_request``
methods), and fails when one of them has no entry on the page, or no docstring to show. An
estimator page must also document ``fit``.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "_templates" / "autosummary" / "class.rst"


def excluded_bases(template: Path = TEMPLATE) -> set[str]:
    """Class names whose members the class template leaves out (``:inherited-members:``)."""
    match = re.search(r":inherited-members:(.*)", template.read_text(encoding="utf-8"))
    return {name.strip() for name in match.group(1).split(",")} if match else set()


def is_excluded_name(name: str) -> bool:
    """Members left out by name (``docs/conf.py`` skips the metadata-request setters)."""
    return name.startswith("_") or (name.startswith("set_") and name.endswith("_request"))


def promised_members(cls: type, excluded: set[str]) -> list[str]:
    """Public methods and properties that the class page must document.

    A member counts when the first class of the MRO that defines it comes before any class
    named in ``excluded``: the rule autodoc applies to ``:inherited-members:``.
    """
    members = []
    for name in dir(cls):
        if is_excluded_name(name):
            continue
        for klass in cls.__mro__:
            if klass is not cls and klass.__name__ in excluded:
                break
            if name in vars(klass):
                attribute = vars(klass)[name]
                # A method behind scikit-learn's available_if is a descriptor that gives the
                # function on class access: callable through getattr, not in vars.
                if isinstance(attribute, (property, classmethod, staticmethod)) or callable(
                    getattr(cls, name, attribute)
                ):
                    members.append(name)
                break
    return sorted(members)


def resolve(qualified_name: str) -> object:
    module_name, _, attribute = qualified_name.rpartition(".")
    while module_name:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            module_name, _, parent = module_name.rpartition(".")
            attribute = f"{parent}.{attribute}"
            continue
        obj = module
        for part in attribute.split("."):
            obj = getattr(obj, part)
        return obj
    raise ImportError(qualified_name)


def page_problems(page: Path, cls: type, excluded: set[str]) -> list[str]:
    """What is missing from one class page."""
    html = page.read_text(encoding="utf-8")
    qualified = page.stem
    problems = []
    members = promised_members(cls, excluded)
    if hasattr(cls, "get_params") and "fit" not in members:
        problems.append(f"{qualified}: an estimator whose page would not document fit")
    for name in members:
        if f'id="{qualified}.{name}"' not in html:
            problems.append(f"{qualified}.{name}: not on the page")
        elif not inspect.getdoc(getattr(cls, name)):
            problems.append(f"{qualified}.{name}: no docstring")
    return problems


def check(html_dir: Path, template: Path = TEMPLATE) -> tuple[int, list[str]]:
    """Check every class page under ``html_dir/gen_modules``; return (pages, problems)."""
    excluded = excluded_bases(template)
    pages, problems = 0, []
    for page in sorted((html_dir / "gen_modules").glob("*.html")):
        obj = resolve(page.stem)
        if inspect.isclass(obj):
            pages += 1
            problems += page_problems(page, obj, excluded)
    if pages == 0:
        problems.append(f"no class page under {html_dir / 'gen_modules'}: was the site built?")
    return pages, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", type=Path, nargs="?", default=Path("docs/_build/html"))
    args = parser.parse_args(argv)
    pages, problems = check(args.html_dir)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{pages} class pages checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
