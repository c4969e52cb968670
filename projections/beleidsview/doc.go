// Package beleidsview computes a gemeente's own beleidsview from the
// regional model: the figures a beleidsmedewerker and a controller of one
// deelnemende gemeente steer with, about its own residents and its own costs
// only. It also counts placements per CBS SRG voorziening for the half-year
// SRG delivery.
//
// Everything here is a plain function of the regional model (and, for the
// costs, of the cost lines of package costs), so the live view, the
// auditor's replay and the tests compute the same figures with the same code.
//
// # Periods and peildatum
//
// A view covers a calendar year ("2026") or a month ("2026-03"). Its
// peildatum is the last day of the period, or today when the period is not
// over: no figure counts a day after today. A year view has the figures of
// the whole year (totaal) and those of each month up to the peildatum
// (per_maand), each month with its own peildatum; a month view has only
// totaal, equal to the year view's figures of that month.
//
// # Whose figures
//
// A case belongs to the gemeente responsible for it on a day (the region
// model's spells): the woonplaatsgemeente from the aanmelding, another
// participant from a verhuizing on. G's view counts:
//
//   - caseload: cases whose spell covering the peildatum has gemeente G and
//     an open state (aangemeld up to and including vangnet; not
//     uitgestroomd), by trede and by doelgroep;
//   - instroom in the period: "aanmelding" (an aanmelding in G) and
//     "verhuizing" (a verhuizing to G); uitstroom: the uitstroom reden in
//     the caseload's words ("regulier-werk", "onbekend" without a reden) of
//     an uitstroom while G was responsible, and "verhuizing" (a verhuizing
//     away from G). Dated by the effective event (corrections applied), so
//     that caseload(end of month) = caseload(end of the month before) +
//     instroom − uitstroom holds for every gemeente;
//   - placements by soort (the placement type word, "vangnet" for vangnet
//     placements): gestart when its first day is in the period and G was
//     responsible on it; beeindigd when the event that ended it (uitval,
//     uitstroom, terugval op vangnet, next plaatsing) is dated in the period
//     and G was responsible on the placement's last active day; of those,
//     uitval and terugval_vangnet by that event's kind; actief when active on
//     the peildatum with G responsible. Dating the end by the ending event
//     keeps actief(end) = actief(start − 1) + gestart − beeindigd for the
//     region as a whole. A placement that moves with its resident is started
//     in one gemeente and ended in another; uitval_percentage is
//     uitval / beeindigd in percent, one decimal, 0 when none ended;
//   - loonwaarde: the mean of the latest measured loonwaarde (the case
//     state's, counted when > 0) over G's caseload on the peildatum, and per
//     resident in that caseload the first and the latest measurement G saw:
//     an intake or plaatsing with a loonwaarde > 0 while G was responsible,
//     and the loonwaarde in the snapshot of a verhuizing to G, dated that
//     day. Measurements made while another gemeente was responsible are not
//     G's: G receives the case from the verhuizing on, as the caseload view
//     does. A resident with several cases in G has them all counted; one
//     without any measurement is not listed. The mean development is over
//     residents with at least two measurements;
//   - LKS: placements of type lks-baan (not vangnet) active on the
//     peildatum, against lks_norm of G's policy version in force on it;
//     and lks_cent, the loonkostensubsidie of the period: G's LKS cost
//     lines (package costs) of its months, a year's the sum of its months';
//   - activation: residents in G's caseload on the peildatum whose
//     placement takes at least four hours a week (minuten_per_week ≥ 240
//     as the plaatsing records it), and their share of the caseload; and
//     the first placements of cases that started in the period in G, with
//     the mean days from the case's aanmelding to them;
//   - costs: G's cost lines (package costs) of the period up to the
//     peildatum, summed per (budgetstroom, taakveld): direct (plaatsing and
//     uren lines) and gedeeld (G's part of shared costs), against the budget
//     of that stream and year in the policy version in force on the
//     peildatum; ongeprijsde_dagen are the days of placement lines with 0
//     cents and a remark (no policy in force, product not bought, no yearly
//     tariff); a year view forecasts the year end at the run rate so far:
//     round_half_even(totaal × days_in_year / days from 1 January through
//     the peildatum).
//
// Percentages and means are rounded to one decimal, half to even, in
// integer arithmetic, so they do not depend on floating-point summation
// order.
//
// # Order
//
// Counts per trede and per doelgroep are in enum order (the ladder from
// dagbesteding to direct-bemiddelbaar), "onbekend" last; reasons in
// alphabetical order; placements in enum order of the type, "vangnet" last;
// loonwaarde per resident by resident id; cost posts by budgetstroom enum
// number, then taakveld. Only keys with a non-zero figure are listed; cost
// posts are listed when they have a cost line or a budget.
//
// # Not (yet) done
//
// Cases of a gemeente that left the arrangement are not mapped to its
// successor (gemeente.Gemeente.Opvolger): the cost lines do not do that
// either, and view and costs must agree.
package beleidsview
