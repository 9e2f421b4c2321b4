/*
 * short_bound.c - linked against a library built with every event reservation two
 * short (-DOPGI_DEBUG -DOPGI_TEST_EVENT_SHORTFALL=2, see the Makefile): a delegation
 * that settles rewards pushes an event past its reservation, and that must stop the
 * program with the assertion (SIGABRT), never drop the payout and return OPG_OK.
 */
#include "harness.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* A delegation added to one that has rewards waiting: the settlement pushes
 * OPG_EVENT_REWARDS_PAID, the one event a delegate call reserves room for. */
static int delegate_with_rewards(void)
{
    opg_registry *r;
    opg_splitter *s;
    if (opg_registry_new(&r, NULL, NULL, NULL) || opg_splitter_new(&s, r, NULL, NULL))
        return 1;
    opg_node_create c;
    memset(&c, 0, sizeof c);
    c.operator_id = id_n(1);
    c.consensus_key = cons_key_n(2);
    c.roles = OPG_ROLE_ALL;
    c.commission_max_rate = dec_of("0.5");
    c.commission_max_change_rate = dec_of("0.1");
    c.min_self_delegation = u64v(1);
    c.self_delegation = u64v(1000000);
    if (opg_registry_node_create(r, &c, 1, 1))
        return 2;
    opg_u256 fees = u64v(500000), more = u64v(10);
    if (opg_splitter_allocate_to_node(s, &c.operator_id, &fees))
        return 3;
    int rc = opg_registry_delegate(NULL, r, &c.operator_id, &c.operator_id, &more, 2, 2);
    size_t n;
    opg_registry_events(r, &n);
    printf("  delegate returned %s with %zu events\n", opg_errname(rc), n);
    return 4;
}

static void test_short_event_bound_aborts(void)
{
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(delegate_with_rewards());
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

int main(void)
{
    RUN(test_short_event_bound_aborts);
    return harness_done();
}
