// zlib (Debian: zlib1g-dev, pulled in by libpng-dev), for gzip-compressed IDX files.
#include <zlib.h>
