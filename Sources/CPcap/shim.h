#ifndef FLOWAUDIT_CPCAP_SHIM_H
#define FLOWAUDIT_CPCAP_SHIM_H
#include <pcap/pcap.h>
#endif
