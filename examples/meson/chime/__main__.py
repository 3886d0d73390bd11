import sys

from chime import ring

print(ring(int(sys.argv[1]) if len(sys.argv) > 1 else 1))
