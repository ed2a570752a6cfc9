/* The log explorer's static files (ui/), compiled into the binary by
 * cmd/ui_embed at build time: each file as it is and gzipped, with its
 * content type and ETag. The table is generated (build/api/ui_assets.c). */
#ifndef LOKIC_API_UI_ASSETS_H
#define LOKIC_API_UI_ASSETS_H

#include <stddef.h>

typedef struct api_ui_asset {
    const char *name;          /* file name under ui/, e.g. "app.js" */
    const char *content_type;  /* static string */
    const unsigned char *data; /* the file as it is */
    size_t len;
    const unsigned char *gz;   /* the same gzipped (level 9, no name, mtime 0) */
    size_t gz_len;
    const char *etag;          /* "\"<xxh3-64 of data, hex>\"" */
} api_ui_asset;

extern const api_ui_asset api_ui_assets[];
extern const size_t api_ui_n_assets;

#endif
