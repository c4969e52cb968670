// Package costs is where an event becomes a cost line: the one place that
// prices placements, hours and shared costs, so that the beleidsview, the
// CSV export and an auditor's replay print the same cents.
//
// # The arithmetic
//
// Money is integer euro cents; no step uses floating point. round_half_even
// rounds to the nearest cent and a tie to the even cent. Products that could
// overflow int64 (amount × weight) are computed exactly in 128 bits.
//
// Placement ("plaatsing"). A placement is active from its plaatsing (or
// terugval op vangnet) date, inclusive, to the date of the uitval,
// uitstroom, terugval op vangnet or next plaatsing that ends it, exclusive.
// Each active day is charged to the gemeente responsible for the case on
// that day, at the tariff for the placement's product (a vangnet placement
// is product "vangnet") in that gemeente's policy version in force on that
// day. The days of one placement with the same gemeente, policy version and
// calendar month form one line:
//
//	cents = round_half_even(cent_per_jaar × days / days_in_year)
//
// where days_in_year is 365 or 366 for the year of that month. A verhuizing,
// a policy change and a month boundary therefore start a new line. A
// gemeente without a policy in force, or whose version does not buy the
// product, still gets the line, with 0 cents and a remark saying why.
//
// Loonkostensubsidie ("lks"). An LKS placement with a monthly subsidy
// (lks_cent_per_maand) also gets, per gemeente and calendar month, a line
// over the same days as its placement lines (a policy change does not cut
// it: the amount is the placement's own), charged to the gemeente
// responsible on those days, on BUIG, taakveld 6.3:
//
//	cents = round_half_even(lks_cent_per_maand × days / days_in_month)
//
// A whole month is the monthly amount; a verhuizing divides a month's
// subsidy over the two gemeenten by their days; a new amount is a new
// plaatsing and so a new line. A vangnet placement has none.
//
// Hours ("uren"). Hours delivered in a period Van..Tot are charged to the
// gemeente responsible on Tot, at the hourly tariff of its version in force
// on Tot; the line's month is the month of Tot:
//
//	cents = round_half_even(minuten × cent_per_uur / 60)
//
// Shared costs ("gedeeld"). A booking of the centrumgemeente for Van..Tot is
// divided over the gemeenten that participate on Van, by the verdeelsleutel
// for the year of Van that was in force when the booking was recorded (the
// latest version when none was then; a later version never re-divides an
// earlier booking), with integer weights:
//
//	INWONERS         inhabitants on 1 January of that year
//	CASELOAD_DAGEN   days in Van..Tot with an open case, summed over cases,
//	                 counted for the gemeente responsible on each day
//	PLAATSING_DAGEN  the same for days with an active placement
//
//	part = floor(cents × weight / total)
//
// and the cents left over go one each to the parts with the largest
// remainder (cents × weight − part × total), ties to the lowest gemeente
// code. The parts add up to the booking exactly. Without a verdeelsleutel
// for the year, or when the weights add up to 0, the booking stays whole
// with the centrumgemeente, remarked "niet verdeeld: ...". Each
// participant gets a line, also when its part is 0. The line's month is the
// month of Tot.
//
// Afrekening (nacalculatie). A policy version may revise a past period
// (ledgerv1.Nacalculatie, with a reason and a decision). Every day keeps the
// price it had when it was priced: on the lines, a nacalculatie prices
// directly only from its Cutover, the day after it was recorded. The
// difference is settled per gemeente, month and product in one afrekening
// line:
//
//	cents = Σ lines now − Σ lines as priced
//
// where "now" prices the same placements and hours with every version over
// its whole period (LinesNow) and "as priced" are the lines themselves, each
// rounded as above. So a report made before the nacalculatie is made again
// unchanged, and the afrekening lines add up to the difference exactly.
// Shared costs are divided as they were booked and are never settled.
//
// # Periods
//
// Line.From and Line.To are the first and the last day of the line, both
// inclusive (as Kostenregel.tot_en_met). A book for [from, to) holds the
// placement days in [from, to), and the hours and shared costs whose Tot is
// in [from, to); pass month boundaries to get whole monthly lines.
package costs
