/*
 * cmd_conf.c - plazad's configuration without plazad: init writes a
 * commented plazad.conf from the settings table in pz_conf.h, config show
 * prints the settings plazad would run with.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plaza/pz_conf.h"
#include "plaza/pz_err.h"
#include "plaza/pz_fs.h"
#include "cli_int.h"

/* --- init --------------------------------------------------------------- */

struct init_args {
	const char *dir;
	bool force;
};

static int init_arg(void *ud, int id, const char *val)
{
	struct init_args *a = ud;

	if (id == 0)
		return cli__one_arg(&a->dir, 0, val);
	a->force = true;
	return PZ_OK;
}

/* init_text - the template as one string in *text (caller frees with
 * free(): open_memstream allocates it).  PZ_OK or PZ_ENOMEM (reported). */
static int init_text(char **text)
{
	size_t len = 0;
	FILE *f;
	int rc = PZ_OK;

	*text = NULL;
	f = open_memstream(text, &len);
	if (!f)
		return cli__say(PZ_ENOMEM, "out of memory");
	pz_conf_template(f);
	if (ferror(f))
		rc = PZ_ENOMEM;
	if (fclose(f))
		rc = PZ_ENOMEM;
	if (rc != PZ_OK) {
		free(*text);
		*text = NULL;
		return cli__say(rc, "out of memory");
	}
	return PZ_OK;
}

/*
 * init_place - text as path.  With force, written over path through
 * pz_fs_write_atomic.  Without, it never replaces a file: written (the same
 * way) under a temporary name that is then linked to path, and link fails
 * if the name is taken.  PZ_OK, PZ_EEXIST, PZ_EIO (all reported).
 */
static int init_place(const char *path, const char *text, bool force)
{
	char tmp[4200];
	int rc = PZ_OK;

	if (force) {
		if (pz_fs_write_atomic(path, text, 0666) != PZ_OK)
			rc = cli__say(PZ_EIO, "cannot write %s: %s", path,
				      strerror(errno));
		return rc;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (pz_fs_write_atomic(tmp, text, 0666) != PZ_OK) {
		rc = cli__say(PZ_EIO, "cannot write %s: %s", tmp,
			      strerror(errno));
	} else if (link(tmp, path)) {
		rc = errno == EEXIST ?
		     cli__say(PZ_EEXIST, "%s exists; use --force to replace "
			      "it", path) :
		     cli__say(PZ_EIO, "cannot write %s: %s", path,
			      strerror(errno));
	}
	unlink(tmp);
	return rc;
}

/* init DIR [--force]: DIR/plazad.conf from the settings table; never
 * replaces a file without --force. */
int cli__cmd_init(struct cli *c)
{
	static const struct copt opts[] = { { "--force", false, 1 },
					    { NULL, false, 0 } };
	struct init_args a = { NULL, false };
	char path[4096];
	char *text = NULL;
	int rc;

	rc = cli__args(c, 1, opts, init_arg, &a);
	if (rc == PZ_OK && !a.dir)
		rc = cli__usage_error("init needs DIR");
	if (rc == PZ_OK && strlen(a.dir) > 4000)
		rc = cli__usage_error("DIR is too long");
	if (rc != PZ_OK)
		goto out;
	snprintf(path, sizeof(path), "%s/plazad.conf", a.dir);
	if (pz_fs_mkdir_p(a.dir, 0700) != PZ_OK) {
		rc = cli__say(PZ_EIO, "cannot create %s: %s", a.dir,
			      strerror(errno));
		goto out;
	}
	rc = init_text(&text);
	if (rc == PZ_OK)
		rc = init_place(path, text, a.force);
	if (rc == PZ_OK)
		printf("wrote %s\n\nstart plazad with:\n  plazad --config %s "
		       "--data %s/data\nthen talk to it with:\n  plaza --data "
		       "%s/data status\n", path, path, a.dir, a.dir);
out:
	free(text);
	return rc;
}

/* --- config show -------------------------------------------------------- */

/* The settings as one JSON object, typed as in the table. */
static json_t *conf_json(const struct pz_conf *conf)
{
	const struct pz_conf_row *rows;
	json_t *o = json_object();
	size_t n;

	rows = pz_conf_table(&n);
	for (size_t i = 0; o && i < n; i++) {
		const void *f = (const char *)conf + rows[i].off;
		json_t *v = NULL;  /* stays NULL only for a type not handled */

		switch (rows[i].type) {
		case PZ_CONF_INT:
			v = json_integer(*(const int64_t *)f);
			break;
		case PZ_CONF_BOOL:
			v = json_boolean(*(const bool *)f);
			break;
		case PZ_CONF_STR:
		case PZ_CONF_ENUM:
			v = json_string(*(char *const *)f ?
					*(char *const *)f : "");
			/* Secrets never leave: only whether one is set. */
			if (!strcmp(rows[i].name, "mqtt.password") &&
			    *(char *const *)f && **(char *const *)f) {
				json_decref(v);
				v = json_string("(set)");
			}
			break;
		}
		if (json_object_set_new(o, rows[i].name, v)) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

/* config show [FILE]: defaults, overlaid with FILE, as plazad sees them. */
int cli__cmd_config(struct cli *c)
{
	struct pz_conf conf;
	const char *file = NULL;
	char err[512];
	json_t *o;
	int rc;

	if (c->argc < 2 || strcmp(c->argv[1], "show"))
		return cli__usage_error("config needs show");
	rc = cli__args(c, 2, NULL, cli__one_arg, &file);
	if (rc != PZ_OK)
		return rc;
	rc = pz_conf_init(&conf);
	if (rc != PZ_OK)
		return cli__say(rc, "out of memory");
	if (file)
		rc = pz_conf_load(&conf, file, err, sizeof(err));
	if (rc == PZ_OK)
		rc = pz_conf_finish(&conf, err, sizeof(err));
	if (rc != PZ_OK) {
		rc = cli__say(rc == PZ_ENOMEM ? rc : PZ_ECONFIG, "%s",
			      rc == PZ_ENOMEM ? "out of memory" : err);
		goto out;
	}
	if (!c->json) {
		pz_conf_show(&conf, stdout);
		goto out;
	}
	o = conf_json(&conf);
	rc = o ? cli__print_json(o) : cli__say(PZ_ENOMEM, "out of memory");
	json_decref(o);
out:
	pz_conf_free(&conf);
	return rc;
}
