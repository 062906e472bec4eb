#ifndef FLOWAUDIT_CZLIB_SHIM_H
#define FLOWAUDIT_CZLIB_SHIM_H
#include <zlib.h>

/// inflateInit2 is a macro (it passes the library's version and the stream's size); Swift
/// cannot call a macro, so it is wrapped here.
static inline int flowaudit_inflateInit2(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}
#endif
