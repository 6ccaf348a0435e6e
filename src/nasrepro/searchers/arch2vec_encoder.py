"""arch2vec's variational graph encoder (what `arch2vec.pretrain` trains), apart so that loading the method's
declaration never loads torch."""

from __future__ import annotations

import torch


class Encoder(torch.nn.Module):
    def __init__(self, n_ops: int, hidden: int, latent: int, hops: int, mlps: int, dropout: float):
        super().__init__()
        self.eps = torch.nn.Parameter(torch.zeros(hops - 1))
        self.mlps = torch.nn.ModuleList()
        for layer in range(hops - 1):
            sizes = [n_ops if layer == 0 else hidden] + [hidden] * mlps
            modules = []
            for k, (a, b) in enumerate(zip(sizes, sizes[1:])):
                modules.append(torch.nn.Linear(a, b))
                if k < mlps - 1:
                    modules += [torch.nn.BatchNorm1d(b), torch.nn.ReLU()]
            self.mlps.append(torch.nn.Sequential(*modules))
        self.norms = torch.nn.ModuleList([torch.nn.BatchNorm1d(hidden) for _ in range(hops - 1)])
        self.mu, self.logvar = torch.nn.Linear(hidden, latent), torch.nn.Linear(hidden, latent)
        self.decode_ops = torch.nn.Linear(latent, n_ops)
        self.dropout = dropout

    def encode(self, ops: torch.Tensor, adjacency: torch.Tensor):
        b, v, _ = ops.shape
        x = ops
        for layer, (mlp, norm) in enumerate(zip(self.mlps, self.norms)):
            agg = (1 + self.eps[layer]) * x + adjacency @ x
            x = torch.relu(norm(mlp(agg.reshape(b * v, -1)))).reshape(b, v, -1)
        return self.mu(x), self.logvar(x)

    def forward(self, ops, adjacency):
        mu, logvar = self.encode(ops, adjacency)
        z = mu + torch.randn_like(mu) * torch.exp(logvar)  # the authors' reparameterisation (std = exp(logvar))
        z = torch.nn.functional.dropout(z, self.dropout, True)
        return torch.sigmoid(self.decode_ops(z)), torch.sigmoid(z @ z.transpose(1, 2)), mu, logvar
