"""BONAS's graph convolutional network (the model `bonas.BONAS` trains), apart so that loading the method's
declaration never loads torch."""

from __future__ import annotations

import math

import torch


class GCN(torch.nn.Module):
    def __init__(self, n_features: int, hidden: int, layers: int, generator: torch.Generator):
        super().__init__()
        sizes = [n_features] + [hidden] * layers
        self.weights = torch.nn.ParameterList(
            [torch.nn.Parameter((torch.rand(a, b, generator=generator) * 2 - 1) * 0.05)
             for a, b in zip(sizes, sizes[1:])])
        self.biases = torch.nn.ParameterList(
            [torch.nn.Parameter((torch.rand(b, generator=generator) * 2 - 1) / math.sqrt(b)) for b in sizes[1:]])
        self.norms = torch.nn.ModuleList([torch.nn.BatchNorm1d(hidden) for _ in range(layers)])
        self.head = torch.nn.Linear(hidden, 1)
        bound = 1 / math.sqrt(hidden)
        with torch.no_grad():
            self.head.weight.uniform_(-bound, bound, generator=generator)
            self.head.bias.uniform_(-bound, bound, generator=generator)

    def embed(self, adjacency: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        for w, b, norm in zip(self.weights, self.biases, self.norms):
            x = torch.relu(norm((adjacency @ (x @ w) + b).transpose(1, 2)).transpose(1, 2))
        return x[:, -1, :]

    def forward(self, adjacency, x):
        return torch.sigmoid(self.head(self.embed(adjacency, x)).squeeze(-1))
