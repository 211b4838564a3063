/*
 * Delivery claims (ha_claim.h). A stub until Part C lands: nothing is
 * sent; ha_check_available refuses HA mode meanwhile.
 */
#include <stdlib.h>

#include "ha_claim.h"
#include "xmalloc.h"

struct ha_claim {
	struct ha	*ha;
};

bool
ha_claim_available(void)
{
	return false;
}

struct ha_claim *
ha_claim_create(struct ha *ha)
{
	struct ha_claim *hc = xcalloc(1, sizeof *hc);

	hc->ha = ha;
	return hc;
}

void
ha_claim_free(struct ha_claim *hc)
{
	free(hc);
}

int
ha_claim_take(struct ha_claim *hc, const char *nid, ha_claim_cb cb,
    void *arg)
{
	(void)hc;
	(void)nid;
	(void)cb;
	(void)arg;
	return -1;
}

int
ha_claim_renew(struct ha_claim *hc, const char *nid, uint64_t token,
    ha_claim_ok_cb cb, void *arg)
{
	(void)hc;
	(void)nid;
	(void)token;
	(void)cb;
	(void)arg;
	return -1;
}

int
ha_claim_done(struct ha_claim *hc, const char *nid, uint64_t token,
    bool unclaimed, ha_claim_ok_cb cb, void *arg)
{
	(void)hc;
	(void)nid;
	(void)token;
	(void)unclaimed;
	(void)cb;
	(void)arg;
	return -1;
}

int
ha_claim_release(struct ha_claim *hc, const char *nid, uint64_t token,
    ha_claim_ok_cb cb, void *arg)
{
	(void)hc;
	(void)nid;
	(void)token;
	(void)cb;
	(void)arg;
	return -1;
}
