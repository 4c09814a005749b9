"""Packing token sequences into ``batch_size x seq_length`` batches, EasyLM's way, with a
cursor that makes resuming exact.

EasyLM's datasets concatenate every example's tokens into one stream and cut it into
chunks of ``batch_size * seq_length``: inputs are ``stream[c : c + chunk]``, targets are
``stream[c + 1 : c + chunk + 1]`` (with their loss masks), and the next batch starts at
``c + chunk``. We do the same, so a batch here is a batch there.

The cursor ``(epoch, position, offset)`` names the first input token of the next batch:
``offset`` tokens into the example at ``position`` of ``epoch``. Examples are a pure
function of their (epoch, position), so a resumed run re-tokenises that one example, drops
``offset`` tokens and goes on with exactly the batches it would have produced.
"""

import collections

import numpy as np


class Packer:
    def __init__(self, batch_size, seq_length):
        self.batch_size = batch_size
        self.seq_length = seq_length
        self.chunk = batch_size * seq_length
        # (epoch, position, tokens, masks); the first one is read from self.offset on.
        self._queue = collections.deque()
        self._available = 0
        self.offset = 0

    def add(self, epoch, position, tokens, masks, offset=0):
        """Append one example; ``offset`` drops its first tokens (only when resuming)."""
        if not self._queue:
            self.offset = offset
        elif offset:
            raise ValueError("only the first example after a resume may start at an offset")
        self._queue.append((epoch, position, tokens, masks))
        self._available += len(tokens) - offset if len(self._queue) == 1 else len(tokens)

    def ready(self):
        return self._available >= self.chunk + 1

    def cursor(self):
        """(epoch, position, offset) of the next batch's first input token."""
        epoch, position, _, _ = self._queue[0]
        return epoch, position, self.offset

    def pop(self):
        """The next batch (requires ``ready()``); the cursor moves ``chunk`` tokens on."""
        need = self.chunk + 1
        tokens, masks = [], []
        got, first = 0, True
        for _, _, t, m in self._queue:
            start = self.offset if first else 0
            take = min(len(t) - start, need - got)
            tokens.append(t[start:start + take])
            masks.append(m[start:start + take])
            got += take
            first = False
            if got == need:
                break
        tokens = np.concatenate(tokens)
        masks = np.concatenate(masks)
        # Advance by chunk tokens: the last target token is the next batch's first input.
        advance = self.chunk
        self._available -= advance
        while advance:
            _, _, t, _ = self._queue[0]
            left = len(t) - self.offset
            if advance < left:
                self.offset += advance
                advance = 0
            else:
                advance -= left
                self._queue.popleft()
                self.offset = 0
        shape = (self.batch_size, self.seq_length)
        return {
            "input_tokens": tokens[:-1].astype(np.int32).reshape(shape),
            "target_tokens": tokens[1:].astype(np.int32).reshape(shape),
            "loss_masks": masks[1:].astype(np.float32).reshape(shape),
        }
