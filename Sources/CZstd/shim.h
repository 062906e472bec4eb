#ifndef FLOWAUDIT_CZSTD_SHIM_H
#define FLOWAUDIT_CZSTD_SHIM_H
#include <zstd.h>
#endif
