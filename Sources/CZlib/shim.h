#ifndef SEALGATE_CZLIB_SHIM_H
#define SEALGATE_CZLIB_SHIM_H
#include <zlib.h>

/* inflateInit2 is a macro Swift cannot import: gzip framing is window bits 15 + 16. */
static inline int sealgate_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 16 + MAX_WBITS);
}
#endif
