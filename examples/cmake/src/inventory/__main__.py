"""python -m inventory FILE.csv: prints the summary of a stock list."""
import sys

from inventory import optimization_level
from inventory.io import load
from inventory.report.summary import summary


def main(argv):
    if len(argv) != 2:
        print("usage: python -m inventory FILE.csv  (compiled at level %d)" % optimization_level())
        return 2
    with open(argv[1], encoding="utf-8") as f:
        print(summary(load(f.read()), "euros"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
