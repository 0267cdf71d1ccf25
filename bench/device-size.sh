#!/bin/sh
# bench/device-size.sh - the device client's code and RAM (bench/device.md):
# pzdev.c alone at -Os on this machine (x86-64), the HTTP client and the
# Ub bootstrap with plaza's crypto they reuse, the bootstrap's stack, the
# state struct, and pzdev-example linked with and without mbedTLS's static
# libraries.
# Run from the top of the tree; writes nothing outside $TMP.
set -eu
T=${TMP:-/tmp}/pzdev-size.$$
mkdir -p "$T"
trap 'rm -rf "$T"' EXIT
CC=${CC:-gcc}
CF="-Os -ffunction-sections -fdata-sections -Idevice -Iinclude"

echo "== pzdev.c alone, $CC -Os (text = code + read-only data)"
$CC $CF -c device/pzdev.c -o "$T/pzdev.o"
size "$T/pzdev.o"

echo "== the Ub bootstrap: pzdev_http.c, pzdev_ub.c, pzdev_gba.c, then"
echo "   plaza's milenage.c, kdf.c and digest.c it reuses (on libcrypto)"
for f in device/pzdev_http.c device/pzdev_ub.c device/pzdev_gba.c \
	src/boot/milenage.c src/boot/kdf.c src/boot/digest.c; do
	$CC $CF -fstack-usage -c "$f" -o "$T/$(basename "$f" .c).o"
done
size -t "$T/pzdev_http.o" "$T/pzdev_ub.o" "$T/pzdev_gba.o" \
	"$T/milenage.o" "$T/kdf.o" "$T/digest.o"
echo "== stack frames of the bootstrap (-fstack-usage, octets)"
cat "$T"/pzdev_ub.su "$T"/pzdev_http.su | sort -t'	' -k2 -n -r | head -6

echo "== the state, sizeof (x86-64)"
cat > "$T/sz.c" <<'C'
#include <stdio.h>
#include "pzdev.h"
int main(void)
{
	struct pzdev d;
	printf("struct pzdev            %zu\n", sizeof(d));
	printf("  of it mbedTLS (tls)   %zu\n", sizeof(d.tls));
	printf("    ssl_context         %zu\n", sizeof(d.tls.ssl));
	printf("    ssl_config          %zu\n", sizeof(d.tls.conf));
	printf("    ctr_drbg_context    %zu\n", sizeof(d.tls.drbg));
	printf("    timing_delay        %zu\n", sizeof(d.tls.timer));
	printf("  pzdev's own           %zu\n", sizeof(d) - sizeof(d.tls));
	printf("    of it tx + rx       %zu\n", sizeof(d.tx) + sizeof(d.rx));
	printf("struct pzdev_msg        %zu (caller's, per answer)\n",
	       sizeof(struct pzdev_msg));
	return 0;
}
C
$CC -Idevice "$T/sz.c" -o "$T/sz" && "$T/sz"

# The example without its GBA part (libcrypto), so the link holds pzdev,
# mbedTLS and libc only.
sed -e 's/pzdev_gba_psk(&in, key, id, id_size)/-1/' \
	-e 's/pzdev_gba_bootstrap(&ub, &b, &why)/-1/' device/example.c \
	> "$T/example.c"
cp device/pzdev_gba.h "$T/"
LD="-Wl,--gc-sections"
$CC $CF -I"$T" "$T/example.c" device/pzdev.c $LD \
	-lmbedtls -lmbedx509 -lmbedcrypto -o "$T/ex-shared"
$CC $CF -I"$T" "$T/example.c" device/pzdev.c $LD \
	-Wl,-Bstatic -lmbedtls -lmbedx509 -lmbedcrypto -Wl,-Bdynamic \
	-o "$T/ex-static"
echo "== pzdev-example (no GBA), mbedTLS as shared libraries (not counted)"
size "$T/ex-shared"
echo "== pzdev-example (no GBA), mbedTLS linked statically (--gc-sections)"
size "$T/ex-static"
echo "== the mbedTLS archives whole, for reference"
size -t /usr/lib/x86_64-linux-gnu/libmbedtls.a \
	/usr/lib/x86_64-linux-gnu/libmbedx509.a \
	/usr/lib/x86_64-linux-gnu/libmbedcrypto.a | tail -1
