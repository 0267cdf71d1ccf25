/*
 * store_int.h - what the store wrappers share with the backends.
 */
#ifndef PZ_STORE_INT_H
#define PZ_STORE_INT_H

#include "plaza/pz_store.h"

extern const struct pz_store_ops pz_store__sqlite_ops;

#endif
