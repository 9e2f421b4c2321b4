/*
 * quickstart.c - the smallest complete program embedding libopg: one block driven
 * through all five handles, in the order a chain node calls them.
 *
 *   begin:  slasher  <- the last commit's signatures
 *           splitter <- allocate the block's rewards
 *   txs:    registry <- delegate;  pricer <- charge an inference request
 *           tally    <- a proposal and a vote
 *   end:    pricer, tally, registry <- end_block;  every handle -> state hash
 *
 * Every call returns 0 or an OPG_E* code; the host reads what it must act on from
 * the registry's events and the tally's closed list.
 *
 *   make examples && build/examples/quickstart
 */
#include <opg.h>

#include <stdio.h>
#include <string.h>

#define CHECK(call)                                                              \
    do {                                                                         \
        int rc_ = (call);                                                        \
        if (rc_) {                                                               \
            fprintf(stderr, "%s: %s (%s)\n", #call, opg_strerror(rc_), opg_errname(rc_)); \
            return 1;                                                            \
        }                                                                        \
    } while (0)

static opg_id account(unsigned char tag)
{
    opg_id id;
    memset(&id, tag, sizeof id);
    return id;
}

static void print_amount(const char *what, const opg_u256 *v)
{
    char text[OPG_U256_STRING_MAX];
    opg_u256_to_string(text, sizeof text, NULL, v);
    printf("  %-28s %s\n", what, text);
}

int main(void)
{
    printf("libopg %s\n", opg_version_string());
    opg_height height = 1;
    opg_time now = 1767225600;

    /* the stake registry: 1,000,000 OPG exist at genesis (1 OPG = 10^18 base units) */
    opg_registry *reg;
    opg_u256 supply;
    CHECK(opg_u256_from_string(&supply, "1000000000000000000000000"));
    CHECK(opg_registry_new(&reg, NULL, &supply, NULL));

    /* the reward splitter attaches to it; no emission, fees only */
    opg_splitter_params sp;
    opg_splitter_params_init(&sp);
    sp.emission = OPG_EMISSION_NONE;
    opg_splitter *split;
    CHECK(opg_splitter_new(&split, reg, &sp, NULL));

    /* a node with 10 % commission and a self-delegation of 1,000 OPG */
    opg_node_create node;
    memset(&node, 0, sizeof node);
    node.operator_id = account(1);
    /* the validator's Ed25519 public key (here RFC 8032's first test key): a node
     * registers only a key of prime order, so that its votes can be slashed */
    static const uint8_t pk[32] = {
        0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
        0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
    memcpy(node.consensus_key.bytes, pk, 32);
    node.roles = OPG_ROLE_CONSENSUS | OPG_ROLE_INFERENCE;
    CHECK(opg_dec_from_string(&node.commission_rate, "0.1"));
    CHECK(opg_dec_from_string(&node.commission_max_rate, "0.2"));
    CHECK(opg_dec_from_string(&node.commission_max_change_rate, "0.01"));
    CHECK(opg_u256_from_string(&node.min_self_delegation, "1000000000000000000"));
    CHECK(opg_u256_from_string(&node.self_delegation, "1000000000000000000000"));
    CHECK(opg_registry_node_create(reg, &node, height, now));

    /* a delegator stakes 3,000 OPG with it */
    opg_id alice = account(3);
    opg_u256 stake;
    CHECK(opg_u256_from_string(&stake, "3000000000000000000000"));
    CHECK(opg_registry_delegate(NULL, reg, &alice, &node.operator_id, &stake, height, now));

    /* the slashing engine and the governance tally, both on the registry */
    opg_slasher *slasher;
    CHECK(opg_slasher_new(&slasher, reg, NULL, NULL));
    opg_tally *gov;
    CHECK(opg_tally_new(&gov, reg, NULL, NULL));

    /* the fee pricer: one resource (GPU milliseconds), EIP-1559 base fee */
    opg_pricer_params pp;
    opg_pricer_params_init(&pp);
    pp.dimension_count = 1;
    strcpy(pp.dimensions[0].name, "gpu_ms");
    opg_u256_from_u64(&pp.dimensions[0].initial_base_fee, 1000000000000); /* per GPU ms */
    CHECK(opg_dec_from_string(&pp.split.inference, "0.8"));
    CHECK(opg_dec_from_string(&pp.split.stakers, "0.2"));
    opg_pricer_class llm;
    memset(&llm, 0, sizeof llm);
    llm.id = 1;
    CHECK(opg_dec_from_string(&llm.multiplier[0], "1"));
    pp.classes = &llm;
    pp.class_count = 1;
    opg_pricer *pricer;
    CHECK(opg_pricer_new(&pricer, &pp, NULL));
    CHECK(opg_tally_attach_pricer(gov, pricer)); /* governance may change fees.* */

    /* end of block 1: the node enters the active set */
    CHECK(opg_registry_end_block(reg, height, now));
    size_t n;
    const opg_event *ev = opg_registry_events(reg, &n);
    for (size_t i = 0; i < n; i++)
        if (ev[i].kind == OPG_EVENT_VALIDATOR_UPDATE)
            printf("validator update: power %llu\n", (unsigned long long)ev[i].power);

    /* block 2 begins: the last commit's signatures, for liveness */
    height++;
    now += 5;
    opg_node_info info;
    CHECK(opg_registry_node_get(&info, reg, &node.operator_id));
    opg_commit_sig sig = {info.consensus_key, info.power, 1};
    CHECK(opg_slasher_record_commit(slasher, &sig, 1, height, now));

    /* transactions: an inference request of 250 GPU ms, charged and split */
    opg_pricer_request req;
    memset(&req, 0, sizeof req);
    req.model_class = 1;
    opg_u256_from_u64(&req.units[0], 250);
    opg_u256 max_fee, tip;
    opg_u256_from_u64(&max_fee, 1000000000000000);
    opg_u256_from_u64(&tip, 0);
    opg_pricer_receipt receipt;
    CHECK(opg_pricer_charge(&receipt, NULL, pricer, &req, &max_fee, &tip, NULL, 0));
    printf("inference request charged:\n");
    print_amount("fee", &receipt.fee);
    print_amount("to the inference node", &receipt.inference);
    print_amount("to the stakers", &receipt.stakers);
    CHECK(opg_splitter_allocate_to_node(split, &node.operator_id, &receipt.inference));
    CHECK(opg_splitter_add_fees(split, &receipt.stakers));

    /* the block's rewards go to the nodes of the last commit, by power */
    opg_commit_vote vote = {info.consensus_key, info.power, {{0, 0, 0, 0}}};
    CHECK(opg_splitter_allocate(split, &vote, 1, height, now));

    /* a governance proposal to double the GPU target; the node votes for it */
    opg_param_change change = {"fees.gpu_ms.target", "30000000"};
    opg_proposal_submit prop;
    memset(&prop, 0, sizeof prop);
    prop.proposer = alice;
    prop.kind = OPG_PROPOSAL_PARAMS;
    prop.changes = &change;
    prop.change_count = 1;
    opg_u256_from_u64(&prop.initial_deposit, 10000000); /* the minimum deposit */
    uint64_t proposal;
    CHECK(opg_tally_submit(&proposal, gov, &prop, now));
    CHECK(opg_tally_vote_option(gov, proposal, &node.operator_id, OPG_VOTE_YES));

    /* end of block 2 */
    CHECK(opg_pricer_end_block(NULL, pricer));
    CHECK(opg_tally_end_block(gov, height, now));
    CHECK(opg_slasher_end_block(slasher, height, now)); /* due deferred slashes, if any */
    CHECK(opg_registry_end_block(reg, height, now));

    /* block 3: the delegator withdraws its share */
    height++;
    now += 5;
    opg_u256 paid;
    CHECK(opg_splitter_withdraw_rewards(&paid, split, &alice, &node.operator_id, height, now));
    print_amount("rewards paid to the delegator", &paid);
    CHECK(opg_splitter_check(split)); /* every base unit accounted for */

    /* two days later the voting period is over: the proposal passes and applies */
    height++;
    now += 2 * 24 * 3600;
    CHECK(opg_tally_end_block(gov, height, now));
    size_t closed;
    const opg_tally_closed *result = opg_tally_closed_list(gov, &closed);
    char target[32];
    CHECK(opg_pricer_param_get(target, sizeof target, NULL, pricer, "fees.gpu_ms.target"));
    printf("proposal %llu %s; fees.gpu_ms.target is now %s\n",
           (unsigned long long)proposal,
           closed && result[0].outcome == OPG_TALLY_PASSED ? "passed" : "did not pass", target);

    uint8_t hash[32];
    CHECK(opg_registry_state_hash(hash, reg));
    printf("registry state hash: ");
    for (int i = 0; i < 32; i++)
        printf("%02x", hash[i]);
    printf("\n");

    opg_tally_free(gov); /* engines before their registry */
    opg_slasher_free(slasher);
    opg_pricer_free(pricer);
    opg_splitter_free(split);
    opg_registry_free(reg);
    return 0;
}
