/*
 * pz_b64.h - base64 (RFC 4648 section 4) and base64url (section 5).
 */
#ifndef PZ_B64_H
#define PZ_B64_H

#include <stddef.h>
#include <stdint.h>

/* pz_b64_encode - encode n bytes into out (room for 4*ceil(n/3)+1 chars),
 * with padding unless url is set (url: '-' '_' alphabet, no padding).
 * Returns the length written (without the NUL). */
size_t pz_b64_encode(const uint8_t *in, size_t n, char *out, int url);

/* pz_b64_decode - decode s (either alphabet, padding optional) into out
 * (room for 3*strlen(s)/4 bytes).  Returns the byte count, or -1 if s is
 * not base64. */
long pz_b64_decode(const char *s, uint8_t *out, size_t outlen);

#endif
