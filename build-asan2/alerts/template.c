/* Made from alerts/templates/alert.txt at build time. */
#include "email.h"
const char email_default_template[] =
"stabild has {{count}} alert(s) for you.\n"
"{{#alerts}}\n"
"\n"
"{{office}} {{benefit}}/{{kind}}: {{direction}} since {{onset}} ({{status}}, {{classification}})\n"
"  Rejection rate {{current_rate}}, baseline {{baseline_rate}}, expected for this case mix {{expected_rate}}.\n"
"  Odds ratio {{odds_ratio}} (95% interval {{odds_ratio_lo}} to {{odds_ratio_hi}}) over {{decisions}} decisions.\n"
"  Of the change, case mix explains {{case_mix}} and practice {{practice}}.\n"
"  Contributing strata: {{strata}}\n"
"  Explanations: {{explanations}}\n"
"  Context: {{context}}\n"
"  Detected {{detected_at}} (alert {{id}}, change {{seq}}).\n"
"  Details: {{status_url}}\n"
"{{/alerts}}\n"
;
