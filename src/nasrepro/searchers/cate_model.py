"""CATE's pair transformer (what `cate.pretrain` trains), apart so that loading the method's declaration never
loads torch."""

from __future__ import annotations

import torch

HEADS, DROPOUT = 8, 0.1


class PairModel(torch.nn.Module):
    def __init__(self, vocab: int, d_model: int, graph_layers: int, pair_layers: int):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, d_model)
        self.segment = torch.nn.Embedding(2, d_model)

        def encoder(layers, ff):
            layer = torch.nn.TransformerEncoderLayer(d_model, HEADS, ff, DROPOUT, batch_first=True, norm_first=True)
            return torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

        self.graph, self.cross = encoder(graph_layers, 2 * d_model), encoder(pair_layers, 4 * d_model)
        self.head = torch.nn.Sequential(torch.nn.Linear(d_model, d_model), torch.nn.Tanh(), torch.nn.Dropout(DROPOUT),
                                        torch.nn.Linear(d_model, vocab))
        self.dropout = torch.nn.Dropout(DROPOUT)

    def encode(self, tokens, blocked):
        return self.graph(self.dropout(self.embed(tokens)), mask=blocked.repeat_interleave(HEADS, 0))

    def forward(self, x, blocked_x, y, blocked_y, pad):
        h = torch.cat([self.encode(x, blocked_x), self.encode(y, blocked_y)], 1)
        seg = self.segment(torch.cat([torch.zeros_like(x), torch.ones_like(y)], 1))
        keep = ~torch.cat([pad[0], pad[1]], 1)
        cross = ~(keep[:, :, None] & keep[:, None, :])
        cross = cross & ~torch.eye(cross.shape[-1], dtype=torch.bool)  # a pad token attends to itself only
        out = self.cross(h + self.dropout(seg), mask=cross.repeat_interleave(HEADS, 0))
        return torch.log_softmax(self.head(out), -1)
