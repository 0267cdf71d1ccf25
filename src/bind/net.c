/*
 * net.c - socket address helpers shared by the bindings.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "plaza/pz_err.h"
#include "plaza/pz_http.h"

int pz_net_parse_addr(const char *addr, struct sockaddr_storage *ss,
		      unsigned *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	char host[64];
	const char *port_s;
	char *end;
	long port;
	size_t n;

	memset(ss, 0, sizeof(*ss));
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':')
			return PZ_EINVAL;
		n = (size_t)(close - addr - 1);
		port_s = close + 2;
		if (n >= sizeof(host))
			return PZ_EINVAL;
		memcpy(host, addr + 1, n);
		host[n] = '\0';
		if (inet_pton(AF_INET6, host, &v6->sin6_addr) != 1)
			return PZ_EINVAL;
		v6->sin6_family = AF_INET6;
		*len = sizeof(*v6);
	} else {
		const char *colon = strrchr(addr, ':');

		if (!colon)
			return PZ_EINVAL;
		n = (size_t)(colon - addr);
		port_s = colon + 1;
		if (n >= sizeof(host))
			return PZ_EINVAL;
		memcpy(host, addr, n);
		host[n] = '\0';
		v4->sin_family = AF_INET;
		if (n == 0)
			v4->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (!strcmp(host, "localhost"))
			v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else if (inet_pton(AF_INET, host, &v4->sin_addr) != 1)
			return PZ_EINVAL;
		*len = sizeof(*v4);
	}
	if (!*port_s)
		return PZ_EINVAL;
	port = strtol(port_s, &end, 10);
	if (*end || port < 0 || port > 65535)
		return PZ_EINVAL;
	if (ss->ss_family == AF_INET6)
		v6->sin6_port = htons((unsigned short)port);
	else
		v4->sin_port = htons((unsigned short)port);
	return PZ_OK;
}
