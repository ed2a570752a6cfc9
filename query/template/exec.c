/* The template executor, following text/template/exec.go step for step so
 * that results and error messages are Go's: walk (text, actions, if, with,
 * range with break/continue, template calls), pipelines with declarations
 * and assignments, commands, field chains on the label map and on fromJson
 * values, method calls on time values, function calls with Go's argument
 * count and type rules (evalArg / validateType), and the current-node
 * tracking (s.at) that decides where an error is reported. Errors unwind
 * with longjmp to tmpl_exec (template.c), which owns all memory. */
#include <string.h>

#include "query/template/template_int.h"

enum { W_OK, W_BREAK, W_CONTINUE };

static void at(tx *x, const tnode *n)
{
    x->node = n;
}

static void step(tx *x)
{
    if (++x->steps > TMPL_MAX_STEPS)
        tx_errorf(x, "template execution exceeded %u steps", TMPL_MAX_STEPS);
}

static lk_str node_string(tx *x, const tnode *n)
{
    size_t m = tx_sb_begin(x);
    tn_write(x->out, n);
    return tx_sb_end(x, m);
}

static lk_str value_string(tx *x, const tv *v)
{
    size_t m = tx_sb_begin(x);
    tv a = *v;
    tf_sprint(x, x->out, &a, 1);
    return tx_sb_end(x, m);
}

/* ---- variables ------------------------------------------------------------ */

static void push_var(tx *x, lk_str name, tv v)
{
    if (x->nvars == x->capvars) {
        uint32_t nc = x->capvars * 2;
        tx_var *nv = tx_alloc(x, nc * sizeof *nv);
        memcpy(nv, x->vars, x->nvars * sizeof *nv);
        x->vars = nv;
        x->capvars = nc;
    }
    x->vars[x->nvars].name = name;
    x->vars[x->nvars].v = v;
    x->nvars++;
}

static tx_var *find_var(tx *x, lk_str name)
{
    for (uint32_t i = x->nvars; i > x->varbase; i--)
        if (lk_str_eq(x->vars[i - 1].name, name))
            return &x->vars[i - 1];
    tx_errorf(x, "undefined variable: %.*s", LK_STR_FMT(name));
}

/* ---- truth and types ------------------------------------------------------- */

bool tx_truth(const tv *v)
{
    switch (v->kind) {
    case TV_BOOL: return v->u.b;
    case TV_INT:
    case TV_INT64:
    case TV_UINT8:
    case TV_MONTH:
    case TV_WEEKDAY:
    case TV_LABELS: return v->u.i != 0; /* labels: the count */
    case TV_FLOAT: return v->u.f != 0;
    case TV_COMPLEX: return v->u.c.re != 0 || v->u.c.im != 0;
    case TV_STRING: return v->u.s.len > 0;
    case TV_TIME: return true;
    case TV_JMAP: return v->u.m->n > 0;
    case TV_JSLICE: return v->u.a->n > 0;
    default: return false;
    }
}

const char *tparam_name(uint8_t tp)
{
    switch (tp) {
    case TPARAM_STRING: return "string";
    case TPARAM_INT: return "int";
    case TPARAM_INT64: return "int64";
    case TPARAM_FLOAT: return "float64";
    case TPARAM_BOOL: return "bool";
    case TPARAM_TIME: return "time.Time";
    case TPARAM_IFACE: return "interface {}";
    case TPARAM_RVALUE: return "reflect.Value";
    default: return "<nil>";
    }
}

static bool assignable(uint8_t kind, uint8_t tp)
{
    switch (tp) {
    case TPARAM_IFACE:
    case TPARAM_RVALUE:
    case TPARAM_NONE: return true;
    case TPARAM_STRING: return kind == TV_STRING;
    case TPARAM_INT: return kind == TV_INT;
    case TPARAM_INT64: return kind == TV_INT64;
    case TPARAM_FLOAT: return kind == TV_FLOAT;
    case TPARAM_BOOL: return kind == TV_BOOL;
    case TPARAM_TIME: return kind == TV_TIME;
    default: return false;
    }
}

/* validateType */
static tv validate(tx *x, tv v, uint8_t tp)
{
    if (tp == TPARAM_NONE)
        return v;
    if (v.kind == TV_INVALID) {
        if (tp == TPARAM_IFACE)
            return (tv){ .kind = TV_NILIFACE };
        if (tp == TPARAM_RVALUE)
            return v;
        tx_errorf(x, "invalid value; expected %s", tparam_name(tp));
    }
    if (assignable(v.kind, tp))
        return v;
    tx_errorf(x, "wrong type for value; expected %s; got %s", tparam_name(tp), tv_type_name(v.kind));
}

/* ---- evaluation ------------------------------------------------------------- */

static tv eval_pipeline(tx *x, const tv *dot, const tnode *pipe);
static tv eval_arg(tx *x, const tv *dot, uint8_t tp, const tnode *n);
static tv eval_field_chain(tx *x, const tv *dot, tv recv, const tnode *node, const lk_str *id,
                           uint32_t n, tnode *const *args, uint32_t nargs, const tv *final);

static void not_a_function(tx *x, tnode *const *args, uint32_t nargs, const tv *final)
{
    if (nargs > 1 || final)
        tx_errorf(x, "can't give argument to non-function %.*s", LK_STR_FMT(node_string(x, args[0])));
}

static tv ideal_constant(tx *x, const tnode *n)
{
    at(x, n);
    const tnum *c = n->u.num;
    lk_str t = c->text;
    if (c->is_complex) {
        tv v = { .kind = TV_COMPLEX };
        v.u.c.re = c->re;
        v.u.c.im = c->im;
        return v;
    }
    bool hex_int = t.len > 2 && t.p[0] == '0' && (t.p[1] == 'x' || t.p[1] == 'X') &&
                   !memchr(t.p, 'p', t.len) && !memchr(t.p, 'P', t.len);
    bool rune_int = t.len > 0 && t.p[0] == '\'';
    bool has_float_syntax = false;
    for (size_t i = 0; i < t.len; i++)
        if (strchr(".eEpP", t.p[i]) && t.p[i])
            has_float_syntax = true;
    if (c->is_float && !hex_int && !rune_int && has_float_syntax)
        return tv_float(c->f);
    if (c->is_int)
        return tv_int(TV_INT, c->i);
    if (c->is_uint)
        tx_errorf(x, "%.*s overflows int", LK_STR_FMT(t));
    return (tv){ .kind = TV_INVALID };
}

static tv eval_call(tx *x, const tv *dot, const tfunc *fn, const tv *recv, const tnode *node,
                    lk_str name, tnode *const *args, uint32_t nargs, const tv *final)
{
    if (args) {
        args++;
        nargs--;
    }
    int num_in = (int)nargs + (final ? 1 : 0);
    int num_fixed = (int)nargs;
    if (fn->variadic) {
        num_fixed = fn->nin - 1;
        if (num_in < num_fixed)
            tx_errorf(x, "wrong number of args for %.*s: want at least %d got %u", LK_STR_FMT(name),
                      fn->nin - 1, nargs);
    } else if (num_in != fn->nin) {
        tx_errorf(x, "wrong number of args for %.*s: want %d got %d", LK_STR_FMT(name), fn->nin,
                  num_in);
    }
    if (fn->special == TF_AND || fn->special == TF_OR) {
        bool want = fn->special == TF_OR;
        tv v = { .kind = TV_INVALID };
        for (uint32_t i = 0; i < nargs; i++) {
            v = eval_arg(x, dot, TPARAM_RVALUE, args[i]);
            if (tx_truth(&v) == want)
                return v;
        }
        if (final)
            v = validate(x, *final, TPARAM_RVALUE);
        return v;
    }
    tv stack[8];
    tv *argv = num_in <= 8 ? stack : tx_alloc(x, (size_t)num_in * sizeof(tv));
    int i = 0;
    for (; i < num_fixed && i < (int)nargs; i++)
        argv[i] = eval_arg(x, dot, fn->in[i], args[i]);
    if (fn->variadic) {
        uint8_t et = fn->in[fn->nin - 1];
        for (; i < (int)nargs; i++)
            argv[i] = eval_arg(x, dot, et, args[i]);
    }
    if (final) {
        uint8_t t = fn->in[fn->nin - 1];
        if (fn->variadic && num_in - 1 < num_fixed)
            t = fn->in[num_in - 1];
        argv[i] = validate(x, *final, t);
    }
    x->call = fn->name;
    x->call_node = node;
    x->recv = recv ? *recv : (tv){ .kind = TV_INVALID };
    tv res = { .kind = TV_INVALID };
    if (fn->special == TF_CALL) {
        /* the callee's name as Go's call builtin reports it */
        lk_str callee;
        if (nargs > 0) {
            callee = node_string(x, args[0]);
        } else if (final->kind == TV_STRING) {
            callee = final->u.s;
        } else {
            size_t m = tx_sb_begin(x);
            lk_buf_printf(x->out, "<%s Value>",
                          final->kind == TV_INVALID ? "invalid" : tv_type_name(final->kind));
            callee = tx_sb_end(x, m);
        }
        tv name_v = tv_str(callee);
        tv *cargs = tx_alloc(x, (size_t)(num_in + 1) * sizeof(tv));
        cargs[0] = name_v;
        memcpy(cargs + 1, argv, (size_t)num_in * sizeof(tv));
        fn->fn(x, cargs, num_in + 1, &res, node);
        return res;
    }
    fn->fn(x, argv, num_in, &res, node);
    return res;
}

static tv eval_function(tx *x, const tv *dot, const tnode *ident, const tnode *cmd,
                        tnode *const *args, uint32_t nargs, const tv *final)
{
    at(x, ident);
    return eval_call(x, dot, ident->u.ident.fn, NULL, cmd, ident->u.ident.name, args, nargs, final);
}

/* binary search in the sorted label set */
static const lk_str *label_lookup(tx *x, lk_str name)
{
    size_t lo = 0, hi = x->d->n_labels;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = lk_str_cmp(x->d->labels[mid].name, name);
        if (c == 0) {
            /* a duplicated name: Go's map keeps the last value */
            while (mid + 1 < x->d->n_labels && lk_str_eq(x->d->labels[mid + 1].name, name))
                mid++;
            return &x->d->labels[mid].value;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const tv *jmap_lookup(const tv_jmap *m, lk_str name)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = lk_str_cmp(m->keys[mid], name);
        if (c == 0)
            return &m->vals[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static tv eval_field(tx *x, const tv *dot, lk_str name, const tnode *node, tnode *const *args,
                     uint32_t nargs, const tv *final, tv recv)
{
    if (recv.kind == TV_INVALID)
        return recv;
    if (recv.kind == TV_NILIFACE)
        tx_errorf(x, "nil pointer evaluating interface {}.%.*s", LK_STR_FMT(name));
    const tfunc *m = tf_method(recv.kind, name);
    if (m)
        return eval_call(x, dot, m, &recv, node, name, args, nargs, final);
    bool has_args = nargs > 1 || final;
    if (recv.kind == TV_LABELS) {
        if (has_args)
            tx_errorf(x, "%.*s is not a method but has arguments", LK_STR_FMT(name));
        const lk_str *v = label_lookup(x, name);
        return tv_str(v ? *v : LK_STR(""));
    }
    if (recv.kind == TV_JMAP) {
        if (has_args)
            tx_errorf(x, "%.*s is not a method but has arguments", LK_STR_FMT(name));
        const tv *v = jmap_lookup(recv.u.m, name);
        if (!v && recv.u.m->shape == TJ_STRUCT)
            tx_errorf(x, "can't evaluate field %.*s in type struct", LK_STR_FMT(name));
        if (!v)
            return recv.u.m->shape == TJ_STRINGS ? tv_str(LK_STR(""))
                                                 : (tv){ .kind = TV_NILIFACE };
        tv r = *v;
        if (recv.u.m->shape == TJ_IFACE)
            r.iface = 1;
        return r;
    }
    tx_errorf(x, "can't evaluate field %.*s in type %s", LK_STR_FMT(name),
              recv.iface ? "interface {}" : tv_type_name(recv.kind));
}

static tv eval_field_chain(tx *x, const tv *dot, tv recv, const tnode *node, const lk_str *id,
                           uint32_t n, tnode *const *args, uint32_t nargs, const tv *final)
{
    for (uint32_t i = 0; i + 1 < n; i++)
        recv = eval_field(x, dot, id[i], node, NULL, 0, NULL, recv);
    return eval_field(x, dot, id[n - 1], node, args, nargs, final, recv);
}

static tv eval_field_node(tx *x, const tv *dot, const tnode *f, tnode *const *args, uint32_t nargs,
                          const tv *final)
{
    at(x, f);
    return eval_field_chain(x, dot, *dot, f, f->u.f.id, f->u.f.n, args, nargs, final);
}

static tv eval_chain_node(tx *x, const tv *dot, const tnode *c, tnode *const *args, uint32_t nargs,
                          const tv *final)
{
    at(x, c);
    if (c->u.chain.n == 0)
        tx_errorf(x, "internal error: no fields in evalChainNode");
    if (c->u.chain.node->type == TN_NIL)
        tx_errorf(x, "indirection through explicit nil in %.*s", LK_STR_FMT(node_string(x, c)));
    tv pipe = eval_arg(x, dot, TPARAM_NONE, c->u.chain.node);
    return eval_field_chain(x, dot, pipe, c, c->u.chain.id, c->u.chain.n, args, nargs, final);
}

static tv eval_variable_node(tx *x, const tv *dot, const tnode *v, tnode *const *args,
                             uint32_t nargs, const tv *final)
{
    at(x, v);
    tv value = find_var(x, v->u.f.id[0])->v;
    if (v->u.f.n == 1) {
        if (args)
            not_a_function(x, args, nargs, final);
        else if (final)
            tx_errorf(x, "can't give argument to non-function %.*s", LK_STR_FMT(node_string(x, v)));
        return value;
    }
    return eval_field_chain(x, dot, value, v, v->u.f.id + 1, v->u.f.n - 1, args, nargs, final);
}

static tv eval_empty_interface(tx *x, const tv *dot, const tnode *n)
{
    at(x, n);
    switch (n->type) {
    case TN_BOOL: return tv_bool(n->u.b);
    case TN_DOT: return *dot;
    case TN_FIELD: return eval_field_node(x, dot, n, NULL, 0, NULL);
    case TN_IDENT: return eval_function(x, dot, n, n, NULL, 0, NULL);
    case TN_NIL: tx_errorf(x, "evalEmptyInterface: nil (can't happen)");
    case TN_NUMBER: return ideal_constant(x, n);
    case TN_STRING: return tv_str(n->u.str.text);
    case TN_VARIABLE: return eval_variable_node(x, dot, n, NULL, 0, NULL);
    case TN_PIPE: return eval_pipeline(x, dot, n);
    default: break;
    }
    tx_errorf(x, "can't handle assignment of %.*s to empty interface argument",
              LK_STR_FMT(node_string(x, n)));
}

static tv eval_arg(tx *x, const tv *dot, uint8_t tp, const tnode *n)
{
    at(x, n);
    switch (n->type) {
    case TN_DOT:
        return validate(x, *dot, tp);
    case TN_NIL:
        if (tp == TPARAM_IFACE)
            return (tv){ .kind = TV_NILIFACE };
        if (tp == TPARAM_RVALUE || tp == TPARAM_NONE)
            return (tv){ .kind = TV_INVALID };
        tx_errorf(x, "cannot assign nil to %s", tparam_name(tp));
    case TN_FIELD: {
        tnode *self[1] = { (tnode *)n };
        return validate(x, eval_field_node(x, dot, n, self, 1, NULL), tp);
    }
    case TN_VARIABLE:
        return validate(x, eval_variable_node(x, dot, n, NULL, 0, NULL), tp);
    case TN_PIPE:
        return validate(x, eval_pipeline(x, dot, n), tp);
    case TN_IDENT:
        return validate(x, eval_function(x, dot, n, n, NULL, 0, NULL), tp);
    case TN_CHAIN:
        return validate(x, eval_chain_node(x, dot, n, NULL, 0, NULL), tp);
    default:
        break;
    }
    switch (tp) {
    case TPARAM_BOOL:
        at(x, n);
        if (n->type == TN_BOOL)
            return tv_bool(n->u.b);
        tx_errorf(x, "expected bool; found %.*s", LK_STR_FMT(node_string(x, n)));
    case TPARAM_FLOAT:
        at(x, n);
        if (n->type == TN_NUMBER && n->u.num->is_float)
            return tv_float(n->u.num->f);
        tx_errorf(x, "expected float; found %.*s", LK_STR_FMT(node_string(x, n)));
    case TPARAM_INT:
    case TPARAM_INT64:
        at(x, n);
        if (n->type == TN_NUMBER && n->u.num->is_int)
            return tv_int(tp == TPARAM_INT ? TV_INT : TV_INT64, n->u.num->i);
        tx_errorf(x, "expected integer; found %.*s", LK_STR_FMT(node_string(x, n)));
    case TPARAM_STRING:
        at(x, n);
        if (n->type == TN_STRING)
            return tv_str(n->u.str.text);
        tx_errorf(x, "expected string; found %.*s", LK_STR_FMT(node_string(x, n)));
    case TPARAM_IFACE:
    case TPARAM_RVALUE:
    case TPARAM_NONE:
        return eval_empty_interface(x, dot, n);
    default:
        tx_errorf(x, "can't handle %.*s for arg of type %s", LK_STR_FMT(node_string(x, n)),
                  tparam_name(tp));
    }
}

static tv eval_command(tx *x, const tv *dot, const tnode *cmd, const tv *final)
{
    tnode *const *args = cmd->u.cmd.args;
    uint32_t nargs = cmd->u.cmd.n;
    const tnode *first = args[0];
    switch (first->type) {
    case TN_FIELD:
        return eval_field_node(x, dot, first, args, nargs, final);
    case TN_CHAIN:
        return eval_chain_node(x, dot, first, args, nargs, final);
    case TN_IDENT:
        return eval_function(x, dot, first, cmd, args, nargs, final);
    case TN_PIPE:
        not_a_function(x, args, nargs, final);
        return eval_pipeline(x, dot, first);
    case TN_VARIABLE:
        return eval_variable_node(x, dot, first, args, nargs, final);
    default:
        break;
    }
    at(x, first);
    not_a_function(x, args, nargs, final);
    switch (first->type) {
    case TN_BOOL: return tv_bool(first->u.b);
    case TN_DOT: return *dot;
    case TN_NIL: tx_errorf(x, "nil is not a command");
    case TN_NUMBER: return ideal_constant(x, first);
    case TN_STRING: return tv_str(first->u.str.text);
    default: break;
    }
    tx_errorf(x, "can't evaluate command %.*s", LK_STR_FMT(node_string(x, first)));
}

static tv eval_pipeline(tx *x, const tv *dot, const tnode *pipe)
{
    if (!pipe)
        return (tv){ .kind = TV_INVALID };
    at(x, pipe);
    tv value = { .kind = TV_INVALID };
    for (uint32_t i = 0; i < pipe->u.p.ncmds; i++) {
        step(x);
        tv prev = value;
        value = eval_command(x, dot, pipe->u.p.cmds[i], i == 0 ? NULL : &prev);
        if (value.kind == TV_NILIFACE)
            value.kind = TV_INVALID;
        value.iface = 0;
    }
    for (uint32_t i = 0; i < pipe->u.p.ndecl; i++) {
        lk_str name = pipe->u.p.decl[i]->u.f.id[0];
        if (pipe->u.p.is_assign)
            find_var(x, name)->v = value;
        else
            push_var(x, name, value);
    }
    return value;
}

/* ---- walking ----------------------------------------------------------------- */

static void write_out(tx *x, const char *p, size_t n)
{
    lk_buf_append(x->out, p, n);
    if (x->out->len - x->out_base > TMPL_MAX_OUTPUT)
        tx_errorf(x, "template output too large (limit %u bytes)", TMPL_MAX_OUTPUT);
}

static void print_value(tx *x, const tnode *n, const tv *v)
{
    at(x, n);
    if (v->kind == TV_INVALID || v->kind == TV_NILIFACE) {
        write_out(x, "<no value>", 10);
        return;
    }
    tf_print_value(x, x->out, v);
    if (x->out->len - x->out_base > TMPL_MAX_OUTPUT)
        tx_errorf(x, "template output too large (limit %u bytes)", TMPL_MAX_OUTPUT);
}

static int walk(tx *x, const tv *dot, const tnode *n);

static int walk_if_with(tx *x, const tv *dot, const tnode *n)
{
    uint32_t mark = x->nvars;
    tv val = eval_pipeline(x, dot, n->u.br.pipe);
    int r = W_OK;
    if (tx_truth(&val))
        r = walk(x, n->type == TN_WITH ? &val : dot, n->u.br.list);
    else if (n->u.br.else_list)
        r = walk(x, dot, n->u.br.else_list);
    x->nvars = mark;
    return r;
}

/* oneIteration: 1 when the loop must stop ({{break}}). */
static int one_iteration(tx *x, const tnode *r, uint32_t mark, const tv *index, const tv *elem)
{
    step(x);
    const tnode *pipe = r->u.br.pipe;
    uint32_t nd = pipe->u.p.ndecl;
    if (nd > 0) {
        if (pipe->u.p.is_assign)
            find_var(x, pipe->u.p.decl[0]->u.f.id[0])->v = nd > 1 ? *index : *elem;
        else
            x->vars[x->nvars - 1].v = *elem;
    }
    if (nd > 1) {
        if (pipe->u.p.is_assign)
            find_var(x, pipe->u.p.decl[1]->u.f.id[0])->v = *elem;
        else
            x->vars[x->nvars - 2].v = *index;
    }
    int w = walk(x, elem, r->u.br.list);
    x->nvars = mark;
    return w == W_BREAK;
}

static int walk_range(tx *x, const tv *dot, const tnode *r)
{
    at(x, r);
    uint32_t mark0 = x->nvars;
    tv val = eval_pipeline(x, dot, r->u.br.pipe);
    uint32_t mark = x->nvars;
    bool ran = false;
    switch (val.kind) {
    case TV_JSLICE:
        for (uint32_t i = 0; i < val.u.a->n; i++) {
            ran = true;
            tv idx = tv_int(TV_INT, i), e = val.u.a->v[i];
            e.iface = 1;
            if (one_iteration(x, r, mark, &idx, &e))
                break;
        }
        break;
    case TV_LABELS:
        for (size_t i = 0; i < x->d->n_labels; i++) {
            ran = true;
            tv k = tv_str(x->d->labels[i].name), v = tv_str(x->d->labels[i].value);
            if (one_iteration(x, r, mark, &k, &v))
                break;
        }
        break;
    case TV_JMAP:
        for (uint32_t i = 0; i < val.u.m->n; i++) {
            ran = true;
            tv k = tv_str(val.u.m->keys[i]), e = val.u.m->vals[i];
            e.iface = 1;
            if (one_iteration(x, r, mark, &k, &e))
                break;
        }
        break;
    case TV_INT:
    case TV_INT64:
    case TV_UINT8:
    case TV_MONTH:
    case TV_WEEKDAY:
        if (r->u.br.pipe->u.p.ndecl > 1)
            tx_errorf(x, "can't use %.*s to iterate over more than one variable",
                      LK_STR_FMT(value_string(x, &val)));
        for (int64_t i = 0; i < val.u.i; i++) {
            ran = true;
            tv e = tv_int(val.kind, i);
            tv none = { .kind = TV_INVALID };
            if (one_iteration(x, r, mark, &none, &e))
                break;
        }
        break;
    case TV_INVALID:
        break;
    default:
        tx_errorf(x, "range can't iterate over %.*s", LK_STR_FMT(value_string(x, &val)));
    }
    if (!ran && r->u.br.else_list)
        walk(x, dot, r->u.br.else_list);
    x->nvars = mark0;
    return W_OK;
}

static void walk_template(tx *x, const tv *dot, const tnode *n)
{
    at(x, n);
    const tmpl_def *def = NULL;
    for (size_t i = 0; i < x->t->ndefs; i++)
        if (lk_str_eq(x->t->defs[i].name, n->u.tmpl.name))
            def = &x->t->defs[i];
    if (!def) {
        size_t m = tx_sb_begin(x);
        tf_quote(x->out, n->u.tmpl.name, false);
        lk_str q = tx_sb_end(x, m);
        tx_errorf(x, "template %.*s not defined", LK_STR_FMT(q));
    }
    if (x->depth >= TMPL_MAX_CALL_DEPTH)
        tx_errorf(x, "exceeded maximum template depth (%d)", TMPL_MAX_CALL_DEPTH);
    tv ndot = eval_pipeline(x, dot, n->u.tmpl.pipe);
    lk_str tname = x->tname;
    uint32_t nvars = x->nvars, base = x->varbase;
    x->depth++;
    x->tname = def->name;
    x->varbase = x->nvars;
    push_var(x, LK_STR("$"), ndot);
    walk(x, &ndot, def->root);
    x->depth--;
    x->tname = tname;
    x->nvars = nvars;
    x->varbase = base;
}

static int walk(tx *x, const tv *dot, const tnode *n)
{
    step(x);
    at(x, n);
    switch (n->type) {
    case TN_ACTION: {
        const tnode *p = n->u.pipe;
        if (dot->kind == TV_LABELS && p->u.p.ndecl == 0 && p->u.p.ncmds == 1) {
            /* fast path for {{.name}}: same result as the general path */
            const tnode *c = p->u.p.cmds[0];
            const tnode *f = c->u.cmd.args[0];
            if (c->u.cmd.n == 1 && f->type == TN_FIELD && f->u.f.n == 1) {
                const lk_str *v = label_lookup(x, f->u.f.id[0]);
                if (v && v->len)
                    write_out(x, v->p, v->len);
                return W_OK;
            }
        }
        tv v = eval_pipeline(x, dot, n->u.pipe);
        if (n->u.pipe->u.p.ndecl == 0)
            print_value(x, n, &v);
        return W_OK;
    }
    case TN_BREAK:
        return W_BREAK;
    case TN_CONTINUE:
        return W_CONTINUE;
    case TN_IF:
    case TN_WITH:
        return walk_if_with(x, dot, n);
    case TN_LIST:
        for (uint32_t i = 0; i < n->u.list.n; i++) {
            int r = walk(x, dot, n->u.list.v[i]);
            if (r != W_OK)
                return r;
        }
        return W_OK;
    case TN_RANGE:
        return walk_range(x, dot, n);
    case TN_TEMPLATE:
        walk_template(x, dot, n);
        return W_OK;
    case TN_TEXT:
        write_out(x, n->u.text.p, n->u.text.len);
        return W_OK;
    default:
        tx_errorf(x, "unknown node: %.*s", LK_STR_FMT(node_string(x, n)));
    }
}

void tx_run(tx *x)
{
    tv data = { .kind = TV_LABELS };
    data.u.i = (int64_t)x->d->n_labels;
    if (x->prom)
        data = tf_prom_data(x);
    push_var(x, LK_STR("$"), data);
    walk(x, &data, x->t->root);
}
