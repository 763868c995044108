package routing

// The search's priority queue: a binary min-heap of node indices keyed by
// their nodeState.key, each node knowing its position so that a cheaper
// way found to a queued node moves it up in place (decrease-key) rather
// than queueing it twice.

// less orders the heap by key.
func (s *search) less(i, j int) bool {
	return s.st[s.heap[i]].key < s.st[s.heap[j]].key
}

func (s *search) swap(i, j int) {
	h := s.heap
	h[i], h[j] = h[j], h[i]
	s.st[h[i]].heap = int32(i)
	s.st[h[j]].heap = int32(j)
}

// pushOrFix queues node n, or moves it to its new place if queued.
func (s *search) pushOrFix(n uint32) {
	st := &s.st[n]
	if st.heap == notQueued {
		st.heap = int32(len(s.heap))
		s.heap = append(s.heap, n)
	}
	// A better cost can still mean a larger key: fix both ways.
	s.up(int(st.heap))
	s.down(int(st.heap))
}

// pop removes and returns the nearest node.
func (s *search) pop() uint32 {
	h := s.heap
	n := h[0]
	last := len(h) - 1
	s.swap(0, last)
	s.heap = h[:last]
	s.st[n].heap = settled
	s.down(0)
	return n
}

func (s *search) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			return
		}
		s.swap(i, p)
		i = p
	}
}

func (s *search) down(i int) {
	n := len(s.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && s.less(r, l) {
			m = r
		}
		if !s.less(m, i) {
			return
		}
		s.swap(i, m)
		i = m
	}
}
