/*
 * pz_version.h - the plaza release.
 */
#ifndef PZ_VERSION_H
#define PZ_VERSION_H

#define PZ_VERSION "0.1.0"

#endif
