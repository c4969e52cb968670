package costs

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sort"
)

// Errors of the arithmetic. They are programming or data errors, never a
// normal outcome: the book reports them instead of printing a wrong cent.
var (
	// ErrOverflow: a result does not fit in int64 cents.
	ErrOverflow = errors.New("bedrag past niet in int64 centen")
	// ErrNoWeight: a division over parts whose weights add up to 0.
	ErrNoWeight = errors.New("totaal gewicht is 0")
)

// RoundHalfEven returns num/den rounded to the nearest integer, a tie going
// to the even one (banker's rounding, as a spreadsheet's ROUND does not, so
// the package doc states it). den must not be 0.
func RoundHalfEven(num, den int64) int64 {
	q, err := MulDiv(num, 1, den)
	if err != nil {
		// num/den with |den| ≥ 1 always fits, except MinInt64/−1.
		panic(fmt.Sprintf("costs.RoundHalfEven(%d, %d): %v", num, den, err))
	}
	return q
}

// MulDiv returns round_half_even(a × b / den), computing a × b exactly in 128
// bits, so that tariff × days or amount × weight never overflows on the
// way. It fails only when den is 0 or the result itself exceeds int64.
func MulDiv(a, b, den int64) (int64, error) {
	if den == 0 {
		return 0, fmt.Errorf("round_half_even(%d × %d / 0): division by zero", a, b)
	}
	hi, lo, neg := mul(a, b)
	ud, dneg := abs(den)
	neg = neg != dneg
	qhi, qlo, r := divmod(hi, lo, ud)
	// Round the magnitude: up when the remainder is more than half, or
	// exactly half and the quotient odd. 2r < 2^64 since r < ud ≤ 2^63.
	if twice := r << 1; twice > ud || (twice == ud && qlo&1 == 1) {
		qhi, qlo = add1(qhi, qlo)
	}
	q, ok := signed(qhi, qlo, neg)
	if !ok {
		return 0, fmt.Errorf("round_half_even(%d × %d / %d): %w", a, b, den, ErrOverflow)
	}
	return q, nil
}

// floorMulDiv returns floor(a × w / total) and the remainder
// a × w − floor × total, in [0, total). w ≥ 0 and total > 0.
func floorMulDiv(a, w, total int64) (int64, uint64, error) {
	hi, lo, neg := mul(a, w)
	qhi, qlo, r := divmod(hi, lo, uint64(total))
	if neg && r != 0 {
		// −(q + r/t) = −(q+1) + (t−r)/t
		qhi, qlo = add1(qhi, qlo)
		r = uint64(total) - r
	}
	q, ok := signed(qhi, qlo, neg)
	if !ok {
		return 0, 0, fmt.Errorf("floor(%d × %d / %d): %w", a, w, total, ErrOverflow)
	}
	return q, r, nil
}

// Allocate divides whole over parts by weight, exactly: each part gets
// floor(whole × weight / total); the cents left over go one each to the
// parts with the largest remainders, ties to the lowest code. The parts add
// up to whole. Weights must not be negative and must not all be 0.
func Allocate(whole int64, weights map[string]int64) (map[string]int64, error) {
	codes := make([]string, 0, len(weights))
	for c := range weights {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	ws := make([]int64, len(codes))
	for i, c := range codes {
		ws[i] = weights[c]
	}
	parts, _, err := allocate(whole, codes, ws)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(codes))
	for i, c := range codes {
		out[c] = parts[i]
	}
	return out, nil
}

// allocate is Allocate over codes sorted ascending, with weights by index.
// It also returns the total weight.
func allocate(whole int64, codes []string, weights []int64) ([]int64, int64, error) {
	var total int64
	for i, w := range weights {
		if w < 0 {
			return nil, 0, fmt.Errorf("allocate %d: weight of %s is %d, negative", whole, codes[i], w)
		}
		if total > math.MaxInt64-w {
			return nil, 0, fmt.Errorf("allocate %d: total weight: %w", whole, ErrOverflow)
		}
		total += w
	}
	if total == 0 {
		return nil, 0, fmt.Errorf("allocate %d over %d parts: %w", whole, len(codes), ErrNoWeight)
	}
	parts := make([]int64, len(weights))
	rems := make([]uint64, len(weights))
	var sum int64
	for i, w := range weights {
		q, r, err := floorMulDiv(whole, w, total)
		if err != nil {
			return nil, 0, fmt.Errorf("allocate %d to %s: %w", whole, codes[i], err)
		}
		parts[i], rems[i] = q, r
		if (q > 0 && sum > math.MaxInt64-q) || (q < 0 && sum < math.MinInt64-q) {
			return nil, 0, fmt.Errorf("allocate %d: sum of parts: %w", whole, ErrOverflow)
		}
		sum += q
	}
	// The remainders add up to total × (whole − sum), so whole − sum is
	// the number of cents left, fewer than the number of parts.
	left := whole - sum
	if left > 0 {
		order := make([]int, len(weights))
		for i := range order {
			order[i] = i
		}
		// Codes are ascending, so a stable sort on the remainder alone
		// breaks ties by code.
		sort.SliceStable(order, func(a, b int) bool { return rems[order[a]] > rems[order[b]] })
		for _, i := range order[:left] {
			parts[i]++
		}
	}
	return parts, total, nil
}

// mul returns |a × b| in 128 bits and whether a × b is negative.
func mul(a, b int64) (hi, lo uint64, neg bool) {
	ua, na := abs(a)
	ub, nb := abs(b)
	hi, lo = bits.Mul64(ua, ub)
	return hi, lo, na != nb && hi|lo != 0
}

// abs returns |a|, also for MinInt64, and whether a is negative.
func abs(a int64) (uint64, bool) {
	if a < 0 {
		return -uint64(a), true
	}
	return uint64(a), false
}

// divmod divides the 128-bit (hi, lo) by d > 0.
func divmod(hi, lo, d uint64) (qhi, qlo, r uint64) {
	qhi, r = hi/d, hi%d
	qlo, r = bits.Div64(r, lo, d)
	return qhi, qlo, r
}

// add1 adds 1 to the 128-bit (hi, lo).
func add1(hi, lo uint64) (uint64, uint64) {
	lo, c := bits.Add64(lo, 1, 0)
	return hi + c, lo
}

// signed converts a 128-bit magnitude and sign to int64, if it fits.
func signed(hi, lo uint64, neg bool) (int64, bool) {
	if hi != 0 {
		return 0, false
	}
	if neg {
		if lo > 1<<63 {
			return 0, false
		}
		return -int64(lo), true // −(1<<63) wraps to MinInt64, as intended
	}
	if lo > math.MaxInt64 {
		return 0, false
	}
	return int64(lo), true
}
