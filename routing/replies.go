package routing

import (
	"math"

	"lnd.xprv/lnwire"
)

// RangeEntry is one channel as reply_channel_range reports it: its short
// channel ID and, per direction, its latest update's timestamp and
// checksum (0 where none).
type RangeEntry struct {
	ID         lnwire.ShortChannelID
	Timestamps lnwire.ChanUpdateTimestamps
	Checksums  lnwire.ChanUpdateChecksums
}

// MaxRangeReplyIDs is the most short channel IDs one reply_channel_range
// carries (lnd's limit); with timestamps and checksums fewer fit the
// 65,535-byte message (rangeChunk).
const MaxRangeReplyIDs = 8000

// rangeChunk is how many entries fit one reply: 8 bytes an ID, 8 more
// for timestamps, 8 more for checksums, under the 65,535-byte limit.
func rangeChunk(timestamps, checksums bool) int {
	per := 8
	if timestamps {
		per += 8
	}
	if checksums {
		per += 8
	}
	return min(MaxRangeReplyIDs, 64_000/per)
}

// RangeReplies answers a query_channel_range with the channels of
// entries (sorted by short channel ID, all within the queried range):
// replies in block order that together cover exactly the queried range,
// a block never split across two replies, each holding at most
// rangeChunk channels, the last one reaching the query's last block (lnd
// and CLN check all three).
func RangeReplies(q *lnwire.QueryChannelRange, entries []RangeEntry) []*lnwire.ReplyChannelRange {
	wantTS, wantCS := q.WantsTimestamps(), q.WantsChecksums()
	chunk := rangeChunk(wantTS, wantCS)
	last := q.LastBlockHeight()
	var replies []*lnwire.ReplyChannelRange
	start := q.FirstBlockHeight
	for {
		n := min(chunk, len(entries))
		// Do not split a block: cut before the last block of the chunk
		// when the next entry is in it, unless that block alone fills
		// the chunk.
		if n < len(entries) && n > 0 && entries[n].ID.BlockHeight == entries[n-1].ID.BlockHeight {
			cut := n
			for cut > 0 && entries[cut-1].ID.BlockHeight == entries[n].ID.BlockHeight {
				cut--
			}
			if cut > 0 {
				n = cut
			}
		}
		part := entries[:n]
		entries = entries[n:]
		r := &lnwire.ReplyChannelRange{ChainHash: q.ChainHash, FirstBlockHeight: start, SyncComplete: 1}
		end := last
		if len(entries) > 0 {
			end = part[len(part)-1].ID.BlockHeight
		}
		r.NumBlocks = blocksBetween(start, end)
		r.ShortChanIDs = make([]lnwire.ShortChannelID, len(part))
		if wantTS {
			r.Timestamps = make([]lnwire.ChanUpdateTimestamps, len(part))
		}
		if wantCS {
			r.Checksums = make([]lnwire.ChanUpdateChecksums, len(part))
		}
		for i, e := range part {
			r.ShortChanIDs[i] = e.ID
			if wantTS {
				r.Timestamps[i] = e.Timestamps
			}
			if wantCS {
				r.Checksums[i] = e.Checksums
			}
		}
		replies = append(replies, r)
		if len(entries) == 0 {
			return replies
		}
		start = end + 1
	}
}

// blocksBetween is the number_of_blocks from first to last inclusive,
// saturating at the largest u32.
func blocksBetween(first, last uint32) uint32 {
	if last < first {
		return 1
	}
	return uint32(min(uint64(last)-uint64(first)+1, math.MaxUint32))
}

// rangeEntry is what a reply reports of a channel with updates ups.
func rangeEntry(id lnwire.ShortChannelID, ups [2]*lnwire.ChannelUpdate) RangeEntry {
	e := RangeEntry{ID: id}
	if u := ups[0]; u != nil {
		e.Timestamps.Timestamp1 = u.Timestamp
		e.Checksums.Checksum1, _ = u.Checksum()
	}
	if u := ups[1]; u != nil {
		e.Timestamps.Timestamp2 = u.Timestamp
		e.Checksums.Checksum2, _ = u.Checksum()
	}
	return e
}
