import sys

from tinyweather import summary

print(summary(sys.argv[1] if len(sys.argv) > 1 else "C"))
