/*
 * fuzz_ops.h - the opcodes of fuzz_ops' input programs, shared with gen_corpus.c.
 * Append new operations before OP_COUNT_ (a new handle's operations too); the
 * opcode byte is taken modulo OP_COUNT_, so old corpus files stay valid programs.
 */
#ifndef OPG_FUZZ_OPS_H
#define OPG_FUZZ_OPS_H

enum op {
    OP_DELEGATE,         /* who, node, amount */
    OP_UNDELEGATE,       /* who, node, amount */
    OP_REDELEGATE,       /* who, src, dst, amount */
    OP_CANCEL_UNBONDING, /* who, node, entry, amount */
    OP_NODE_CREATE,      /* node, rate, amount, min_self */
    OP_END_BLOCK,        /* time step */
    OP_MINT,             /* - */
    OP_ALLOCATE,         /* count, then per vote: node, power, score */
    OP_ALLOCATE_TO_NODE, /* node, amount */
    OP_ADD_FEES,         /* amount */
    OP_WITHDRAW_REWARDS, /* who, node */
    OP_WITHDRAW_COMMISSION, /* node */
    OP_SLASH,            /* node, back, fraction, power */
    OP_JAIL,             /* node, time step */
    OP_UNJAIL,           /* node */
    OP_TOMBSTONE,        /* node */
    OP_SET_COMMISSION,   /* node, rate */
    OP_SET_MIN_SELF,     /* node, amount */
    OP_SET_ROLES,        /* node, roles */
    OP_QUOTE,            /* request */
    OP_CHARGE,           /* request, max fee, tip, verifiers */
    OP_PRICER_END_BLOCK, /* - */
    OP_CLASS_SET,        /* id, multipliers */
    OP_CLASS_REMOVE,     /* id */
    OP_PARAM_SET,        /* handle, key, value */
    OP_PAUSE,            /* - */
    OP_RESUME,           /* - */
    OP_POOL_SPEND,       /* amount */
    OP_FUND_POOL,        /* amount */
    OP_SUPPLY_MINT,      /* amount */
    OP_SUPPLY_BURN,      /* amount */
    OP_SAVE_LOAD,        /* - */
    OP_ARM_OOM,          /* k: fail the k-th allocation of the next operation */
    OP_RECORD_COMMIT,    /* count, then per entry: node, power, signed */
    OP_FAULT,            /* evidence id, node, back, class, reporter node */
    OP_DOUBLE_SIGN,      /* node, back, flags */
    OP_PROPOSE,          /* proposer, kind/flags, deposit amount, then per change: handle, key, value */
    OP_DEPOSIT,          /* proposal, depositor, amount */
    OP_VOTE,             /* proposal, voter, option (>= 200: count, then per option: option, fraction) */
    OP_TALLY_END_BLOCK,  /* - */
    OP_CANCEL_PROPOSAL,  /* proposal, by the proposer or another account */
    OP_MISBEHAVIOR,      /* count (0..3), then per record: node, back, flags */
    OP_PROPOSE_VALIDATOR, /* proposer, flags (bit 0 remove, bit 1 expedited, bit 2 another
                           * node's key, bit 3 rate 0.01, bit 4 cancel a pending slash, bit 5
                           * wholly), node, self amount, min self,
                           * deposit amount */
    OP_SET_POA,          /* on: staking.poa set by the host ("true" if odd) */
    OP_SET_DEFER,        /* duration choice: slashing.defer_duration */
    OP_SLASHER_END_BLOCK, /* - : the due pending slashes apply */
    OP_CANCEL_SLASH,     /* pending choice, fraction */
    OP_VOTE_CONVICTION,  /* proposal, voter, option, conviction (>= 0x80: turn
                          * gov.conviction_voting on first; low bits % 9: 7, 8 invalid) */
    OP_COUNT_
};

#endif /* OPG_FUZZ_OPS_H */
