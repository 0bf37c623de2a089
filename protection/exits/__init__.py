"""Protective exits: an entry's exit plan armed on its fill, grown, trailed, reconciled.

The plan travels with the entry (`orders.ExitPlan`, parsed by
`orders/exit_plans.py`); this package owns what happens once the entry fills.
This docstring is its policy; the modules, by what they do:

- `policy`: settings, which side/condition a leg has, native or managed, levels refused;
- `plan_state`: the plan's note, the "NOT protected" warning, closing, the per-plan lock;
- `legs`: legs made, sent through the execution service, cancelled;
- `arming`: arming on fill and growing; an exit's fill closing the plan;
- `moving`: levels moved (managed in place, native `modify_gtt` or replaced);
- `trailing`: the beat's trailing stops;
- `reconcile`: capping the legs by what is still open (portfolio sync);
- `sweep`: missed fills, finished plans, the retry policy;
- `editing`: the trader's edit / cancel from the Orders page.

- **Arming** (`arm_entry`): when order sync sees the entry EXECUTED or
  PARTIALLY_FILLED (`orders.signals.order_filled`, and the beat's sweep as a
  safety net), the filled quantity in whole lots is claimed with one
  conditional UPDATE of `ExitPlan.protected_quantity` (old → new): only the
  caller that moved it creates legs for the difference, so an entry is
  protected exactly once however many workers see the fill. The legs are
  ordinary GTT orders (`Order.protects` = the entry, source "Protective exit"),
  armed through `orders.execution.execute` like any GTT: one native GTT (OCO for
  a stop and a target) where the account's broker has that kind and the product
  is not intraday (Kite's GTT is for CNC/NRML); managed conditional orders
  otherwise (MARKET exits sent by SigmaTrader when the last price crosses).
  An arming without a clear answer is UNKNOWN and reconciled by the order sync
  from the broker's GTT list (never resent).
- **Levels** from the average fill price, on the tick towards the fill; a native
  stop leg is a LIMIT order `PROTECTION_STOP_LIMIT_BUFFER_PERCENT` (1%) beyond
  its trigger so a fast fall still fills (Kite's GTT legs are LIMIT orders).
- **Growing**: a later partial fill claims the difference. Managed legs still
  armed grow in place (one atomic UPDATE of both legs); otherwise a new pair
  protects the difference. A cancelled remainder leaves the filled part protected.
- **Trailing** (`trail_stops`, beat): the stop follows the best price since the
  fill at the trail distance and only tightens. Managed: the armed leg's trigger
  moves (one conditional UPDATE). Native: `modify_gtt` where the broker declares
  `gtt_modify`; otherwise the GTT is cancelled and a new one armed with the
  tighter stop — for the milliseconds between the two the position has no GTT
  at the broker (the gap; if the new one fails, the repair below re-arms it).
  A modify with no answer is read back from the broker's GTT list: landed, it is
  recorded; not (or unreadable), the next trail pass retries it, at most
  PROTECTION_MAX_RETRIES times PROTECTION_RETRY_SECONDS apart; then trailing ends,
  said in the plan and as a warning event, and the GTT keeps the stop it holds.
- **OCO**: one leg fires → the other is cancelled (orders' GTT machinery, native
  or managed); when an exit fills, the plan closes.
- **Reconciliation** (`reconcile_account`, after each portfolio sync): what is
  still open of the instrument in the entry's direction (positions of the
  product, plus holdings for CNC) caps the legs: a manual exit, square-off, the
  broker's auto square-off or a sold holding reduces them or cancels them.
  Only portfolio data read after the legs were armed is trusted. The app's own
  square-off of a whole position withdraws the armed exits before it sends
  (`portfolio.trading.withdraw_protective_exits`). A partial manual exit (a
  non-leg order of the same account, instrument and product on the exit side)
  shrinks the legs as soon as the order sync sees it fill (`reconcile.
  manual_exit_filled`, the same shrink), newest plan first, each filled share
  counted once (recorded in the exit's history); a portfolio read after the
  arming limits it to what the legs exceed (shares held outside the plans go
  first). The next portfolio sync confirms it.
- **MIS** legs expire at the intraday square-off (`PROTECTION_MIS_END`, 15:20 IST).
- **Rejected exits** are visible at once (the leg's REJECTED event, a warning
  event, the plan's note on the Orders page). Retry policy (`repair`): a plan
  whose open quantity has no armed leg (a rejected or failed arming, a fired
  leg whose exit order the broker rejected, a lost replacement) is re-armed at
  most PROTECTION_MAX_RETRIES (3) times, at least PROTECTION_RETRY_SECONDS (60)
  apart; a rejection or failure is a definite "not placed", so this is never a
  blind resend, and nothing is retried while any leg is in flight or UNKNOWN.
  After the last retry the plan says "NOT protected" and a warning event says so.
"""
