"""The PyTorch side of the weights cross-checks (run by the tests with Debian's python3-torch).

    pytorch_check.py make     DIR  writes DIR/torch_weights.safetensors (the tutorial's Net, seeded) and
                                   DIR/torch_io.safetensors (an input and PyTorch's logits for it)
    pytorch_check.py check    DIR  loads DIR/dotnet_weights.safetensors into the tutorial's Net, runs the input
                                   of DIR/dotnet_io.safetensors and prints the largest difference from the
                                   logits stored there
    pytorch_check.py make-pt  DIR  torch.save(net.state_dict()) of the tutorial's Net and of the 784-128-64-10
                                   MLP (DIR/net.pt, DIR/mlp.pth), inputs and PyTorch's logits for them
                                   (DIR/torch_io.safetensors), the Net in the pre-1.6 format (DIR/legacy.pt) and
                                   the whole pickled Net rather than its state_dict (DIR/whole.pt)
    pytorch_check.py check-pt DIR  load_state_dict(torch.load(...)) of DIR/dotnet_net.pt and DIR/dotnet_mlp.pt,
                                   run on DIR/dotnet_io.safetensors's inputs; prints the largest difference
    pytorch_check.py make-odd DIR  valid state dicts a user meets that are not this library's own layout: the
                                   tutorial's nn.Sequential MLP (DIR/sequential.pt) and its OrderedDict version
                                   (DIR/ordered.pt), both ending in Softmax; the Net saved from nn.DataParallel
                                   (DIR/dataparallel.pt); the Net whose tensors are views (DIR/views.pt: slices of
                                   one shared storage at offsets, a transposed weight, a bias expanded with stride
                                   0); the Net as TorchScript (DIR/script.pt) and with a NaN (DIR/nan.pt); inputs
                                   and PyTorch's outputs for each (DIR/odd_io.safetensors)
Safetensors is read and written by hand (Debian has no safetensors package): 8-byte length, JSON, data.
"""
import json, struct, sys
import torch

from tutorial_nets import Mlp, Net  # bench/tutorial_nets.py, copied beside this script

def save(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().float().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data); offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text))); f.write(text); f.write(b"".join(blobs))

def load(path):
    raw = open(path, "rb").read()
    n, = struct.unpack("<Q", raw[:8])
    header, data = json.loads(raw[8:8 + n]), raw[8 + n:]
    out = {}
    for name, spec in header.items():
        if name == "__metadata__": continue
        assert spec["dtype"] == "F32", spec
        begin, end = spec["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(spec["shape"])
    return out

mode, folder = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
net = Net().eval()
mlp = Mlp().eval()
if mode == "make-pt":
    torch.save(net.state_dict(), f"{folder}/net.pt")
    torch.save(mlp.state_dict(), f"{folder}/mlp.pth")
    torch.save(net.state_dict(), f"{folder}/legacy.pt", _use_new_zipfile_serialization=False)
    torch.save(net, f"{folder}/whole.pt")
    x, y = torch.randn(4, 1, 32, 32), torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        save(f"{folder}/torch_io.safetensors", {"net_input": x, "net_logits": net(x), "mlp_input": y, "mlp_logits": mlp(y)})
elif mode == "check-pt":
    net.load_state_dict(torch.load(f"{folder}/dotnet_net.pt"), strict=True)
    mlp.load_state_dict(torch.load(f"{folder}/dotnet_mlp.pt"), strict=True)
    io = load(f"{folder}/dotnet_io.safetensors")
    with torch.no_grad():
        print(max((net(io["net_input"]) - io["net_logits"]).abs().max().item(),
                  (mlp(io["mlp_input"]) - io["mlp_logits"]).abs().max().item()))
elif mode == "make-odd":
    from collections import OrderedDict
    import torch.nn as nn
    sequential = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10), nn.Softmax(dim=1)).eval()
    ordered = nn.Sequential(OrderedDict([("fc1", nn.Linear(784, 128)), ("relu1", nn.ReLU()), ("fc2", nn.Linear(128, 64)),
                                         ("relu2", nn.ReLU()), ("output", nn.Linear(64, 10)), ("softmax", nn.Softmax(dim=1))])).eval()
    torch.save(sequential.state_dict(), f"{folder}/sequential.pt")
    torch.save(ordered.state_dict(), f"{folder}/ordered.pt")
    torch.save(nn.DataParallel(net).state_dict(), f"{folder}/dataparallel.pt")
    # The Net's weights as views: every tensor a slice of one storage; fc1.weight read through a transpose; fc3.bias
    # one value expanded (stride 0). torch.save keeps each view's offset and strides.
    state = net.state_dict()
    state["fc3.bias"] = torch.full((1,), 0.25).expand(10)
    flat = torch.cat([t.reshape(-1) for name, t in state.items() if name != "fc1.weight"] + [state["fc1.weight"].t().reshape(-1)])
    views, offset = {}, 0
    for name, t in state.items():
        if name == "fc1.weight":
            continue
        views[name] = flat[offset:offset + t.numel()].view(t.shape)
        offset += t.numel()
    views["fc1.weight"] = flat[offset:].view(400, 120).t()
    views["fc3.bias"] = state["fc3.bias"]
    assert not views["fc1.weight"].is_contiguous() and views["fc3.bias"].stride() == (0,)
    torch.save(views, f"{folder}/views.pt")
    viewed = Net().eval()
    viewed.load_state_dict(views)
    torch.jit.script(net).save(f"{folder}/script.pt")
    broken = net.state_dict()
    broken["fc1.weight"][0, 0] = float("nan")
    torch.save(broken, f"{folder}/nan.pt")
    x, y = torch.randn(4, 1, 32, 32), torch.randn(4, 784)
    with torch.no_grad():
        save(f"{folder}/odd_io.safetensors", {"net_input": x, "net_logits": net(x), "views_logits": viewed(x), "mlp_input": y,
                                              "sequential_probabilities": sequential(y), "ordered_probabilities": ordered(y)})
elif mode == "make":
    x = torch.randn(4, 1, 32, 32)
    save(f"{folder}/torch_weights.safetensors", net.state_dict())
    with torch.no_grad():
        save(f"{folder}/torch_io.safetensors", {"input": x, "logits": net(x)})
else:
    net.load_state_dict(load(f"{folder}/dotnet_weights.safetensors"), strict=True)
    io = load(f"{folder}/dotnet_io.safetensors")
    with torch.no_grad():
        print((net(io["input"]) - io["logits"]).abs().max().item())
