/*
 * rsc.c - oneM2M response status codes: names and HTTP statuses (the
 * mapping of the spec sheet, as ACME maps them).  In plaza_util so that
 * the CLI names codes the way plazad does.
 */
#include <stddef.h>

#include "plaza/pz_req.h"

struct rsc_row {
	int rsc;
	int http;
	const char *name;
};

static const struct rsc_row rsc_table[] = {
	{ 1000, 202, "ACCEPTED" },
	{ 1001, 202, "ACCEPTED_NON_BLOCKING_REQUEST_SYNC" },
	{ 1002, 202, "ACCEPTED_NON_BLOCKING_REQUEST_ASYNC" },
	{ 2000, 200, "OK" },
	{ 2001, 201, "CREATED" },
	{ 2002, 200, "DELETED" },
	{ 2004, 200, "UPDATED" },
	{ 4000, 400, "BAD_REQUEST" },
	{ 4001, 501, "RELEASE_VERSION_NOT_SUPPORTED" },
	{ 4004, 404, "NOT_FOUND" },
	{ 4005, 405, "OPERATION_NOT_ALLOWED" },
	{ 4008, 504, "REQUEST_TIMEOUT" },
	{ 4015, 415, "UNSUPPORTED_MEDIA_TYPE" },
	{ 4101, 403, "SUBSCRIPTION_CREATOR_HAS_NO_PRIVILEGE" },
	{ 4102, 400, "CONTENTS_UNACCEPTABLE" },
	{ 4103, 403, "ORIGINATOR_HAS_NO_PRIVILEGE" },
	{ 4105, 409, "CONFLICT" },
	{ 4107, 403, "SECURITY_ASSOCIATION_REQUIRED" },
	{ 4108, 403, "INVALID_CHILD_RESOURCE_TYPE" },
	{ 4110, 400, "GROUP_MEMBER_TYPE_INCONSISTENT" },
	{ 4117, 403, "ORIGINATOR_HAS_ALREADY_REGISTERED" },
	{ 5000, 500, "INTERNAL_SERVER_ERROR" },
	{ 5001, 501, "NOT_IMPLEMENTED" },
	{ 5103, 404, "TARGET_NOT_REACHABLE" },
	{ 5105, 403, "RECEIVER_HAS_NO_PRIVILEGES" },
	{ 5106, 409, "ALREADY_EXISTS" },
	{ 5203, 403, "TARGET_NOT_SUBSCRIBABLE" },
	{ 5204, 500, "SUBSCRIPTION_VERIFICATION_INITIATION_FAILED" },
	{ 5207, 406, "NOT_ACCEPTABLE" },
	{ 6010, 400, "MAX_NUMBER_OF_MEMBER_EXCEEDED" },
	{ 6023, 400, "INVALID_ARGUMENTS" },
	{ 6024, 400, "INSUFFICIENT_ARGUMENTS" },
};

static const struct rsc_row *rsc_find(int rsc)
{
	for (size_t i = 0; i < sizeof(rsc_table) / sizeof(rsc_table[0]); i++)
		if (rsc_table[i].rsc == rsc)
			return &rsc_table[i];
	return NULL;
}

int pz_rsc_http(int rsc)
{
	const struct rsc_row *r = rsc_find(rsc);

	return r ? r->http : 500;
}

const char *pz_rsc_name(int rsc)
{
	const struct rsc_row *r = rsc_find(rsc);

	return r ? r->name : "UNKNOWN";
}

