/*
 * coap_shim.c - LD_PRELOAD shim that lets libcoap 4.3.1's coap-client
 * accept plaza's answers in the integration tests.
 *
 * Every oneM2M CoAP option (oneM2M-RSC 307, -RQI 283, -RVI 271, ...) is
 * critical, and libcoap drops a response carrying a critical option it
 * was not told about; coap-client cannot be told (and libcoap can only be
 * told about two options above 255 anyway, see src/bind/coap.c).  This
 * shim replaces coap_option_filter_get: an empty filter (the client
 * context's list of known options, to which coap-client adds nothing)
 * knows every option; every other filter behaves as in libcoap.
 * Built by tests/unit/CMakeLists.txt as libcoap_client_shim.so.
 */
#include <coap3/coap.h>

int coap_option_filter_get(coap_opt_filter_t *f, coap_option_num_t num)
{
	unsigned i;

	if (f->mask == 0)
		return 1;
	if (num > 255) {
		for (i = 0; i < COAP_OPT_FILTER_LONG; i++)
			if ((f->mask & (1u << i)) && f->long_opts[i] == num)
				return 1;
		return 0;
	}
	for (i = 0; i < COAP_OPT_FILTER_SHORT; i++)
		if ((f->mask & (1u << (i + COAP_OPT_FILTER_LONG))) &&
		    f->short_opts[i] == num)
			return 1;
	return 0;
}
