"""Print pip constraints that pin every dependency to its declared floor.

The floors are the lower bounds in pyproject.toml, of the dependencies and of
the extras named on the command line: ``name>=1.2`` becomes ``name==1.2``. CI
installs the package with these constraints on the oldest supported Python,
so the floors that pyproject.toml declares are floors that the tests pass on.

    python .ci/floor_constraints.py test > floors.txt
"""

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads(
    Path(__file__).parents[1].joinpath("pyproject.toml").read_text()
)
project = project["project"]
requirements = list(project["dependencies"])
for extra in sys.argv[1:]:
    requirements += project["optional-dependencies"][extra]

for requirement in requirements:
    match = re.fullmatch(
        r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*>=\s*([^,;\s]+).*", requirement
    )
    if match is None:
        if not requirement.startswith(project["name"]):  # its own extras
            sys.exit(f"no floor declared in {requirement!r}")
        continue
    print(f"{match.group(1)}=={match.group(3)}")
