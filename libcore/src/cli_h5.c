/* The provenance line every program appends to uns['scnet']['history']. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scnet/cli.h"
#include "scnet/h5ad.h"
#include "scnet/mem.h"

int sn_h5ad_record_run(hid_t fid, const sn_cli *cli)
{
    char *cmd = sn_cli_cmdline(cli), *entry = NULL;
    size_t n = (cmd ? strlen(cmd) : 0) + strlen(cli->prog) + 64;
    if (cmd && (entry = sn_malloc(n, "history")))
        snprintf(entry, n, "%s %s: %s", cli->prog, SN_VERSION, cmd);
    int rc = entry ? sn_h5ad_history_append(fid, entry) : SN_ENOMEM;
    free(cmd);
    free(entry);
    return rc;
}
