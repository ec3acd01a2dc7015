"""He et al.'s CIFAR ResNets in PyTorch, the reference for spred's zoo.

    /usr/bin/python3 scripts/torch/cifar_resnet.py describe resnet-20 3 32 32

prints, as JSON, the parameter and buffer names, shapes and counts of the
network for that input shape (names as PyTorch's state_dict gives them).
Defined here from the paper (2016, section 4.2): 3x3 conv 16, three stages
of basic blocks at 16/32/64 channels (stride 2 at the start of stages 2 and
3), BatchNorm after every conv (convs without bias), 1x1 conv + BatchNorm
projection shortcuts where the shape changes, global average pooling, fc 10.
"""
import json
import sys

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class CIFARResNet(nn.Module):
    def __init__(self, blocks, channels=3, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        cin, layers = 16, []
        for stage, width in enumerate([16, 32, 64]):
            blks = []
            for b in range(blocks):
                stride = 2 if stage > 0 and b == 0 else 1
                blks.append(Block(cin, width, stride))
                cin = width
            layers.append(nn.Sequential(*blks))
        self.layer1, self.layer2, self.layer3 = layers
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def build(name, channels):
    blocks = {"resnet-8": 1, "resnet-20": 3, "resnet-32": 5, "resnet-56": 9}[name]
    return CIFARResNet(blocks, channels)


def describe(name, c, h, w):
    m = build(name, c)
    m(torch.zeros(2, c, h, w))  # the network takes the input shape
    params = {k: list(v.shape) for k, v in m.named_parameters()}
    buffers = {k: list(v.shape) for k, v in m.named_buffers() if not k.endswith("num_batches_tracked")}
    prunable = sum(v.numel() for k, v in m.named_parameters() if k.endswith("weight") and v.dim() > 1)
    return {"params": params, "buffers": buffers,
            "count": sum(v.numel() for v in m.parameters()), "prunable": prunable}


if __name__ == "__main__":
    if len(sys.argv) != 6 or sys.argv[1] != "describe":
        sys.exit(__doc__)
    json.dump(describe(sys.argv[2], *map(int, sys.argv[3:])), sys.stdout)
