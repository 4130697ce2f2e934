#!/usr/bin/env python3
"""Checks the outputs of the two tutorial notebooks after a headless run (run.sh, CI).

    check.py NeuralNetworks.ipynb BuildingNetworks.ipynb   fails unless every cell ran without error and the
                                                           key outputs are right
    check.py --clean executed.ipynb target.ipynb           writes the executed notebook without run timestamps
"""
import json, math, re, sys


def outputs(notebook):
    """Every cell's outputs as (kind, text), where kind is the output type or the image's mime type."""
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            kind = output["output_type"]
            if kind == "error":
                yield "error", f"{output.get('ename')}: {output.get('evalue')}"
            elif kind == "stream":
                yield "text", "".join(output.get("text", []))
            else:
                data = output.get("data", {})
                if "image/png" in data:
                    yield "image/png", "".join(data["image/png"])
                elif "text/plain" in data:
                    yield "text", "".join(data["text/plain"])


def check(path, expectations):
    notebook = json.load(open(path))
    found = list(outputs(notebook))
    problems = [f"a cell raised {text.splitlines()[0]}" for kind, text in found if kind == "error"]
    text = "\n".join(t for kind, t in found if kind == "text")
    images = sum(1 for kind, _ in found if kind == "image/png")
    problems += expectations(text, images)
    for problem in problems:
        print(f"check.py: {path}: {problem}", file=sys.stderr)
    return not problems


def numbers(line):
    return [float(n) for n in re.findall(r"-?\d+\.\d+", line)]


def neural_networks(text, images):
    problems = []
    for expected in ["LeNet(\n  (conv1): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))\n  (conv2): Conv2d(6, 16, kernel_size=(5, 5), stride=(1, 1))",
                     "  (fc3): Linear(in_features=84, out_features=10, bias=True)\n)", "len(params) = 10",
                     "params[0].size() = [6, 1, 5, 5]", "Total params: 61,706", "every parameter has a gradient: True",
                     "LeNet expects input of shape [N, 1, 32, 32]; received [1, 32, 32]",
                     "MSELoss <- fc3 [1, 10] <- fc2 [1, 84] <- fc1 [1, 120] <- conv2 [1, 16, 10, 10] <- conv1 [1, 6, 28, 28] <- input [1, 1, 32, 32]",
                     "conv1.bias.grad before backward: None"]:
        if expected not in text:
            problems.append(f"expected the output {expected!r}")
    losses = re.search(r"^losses: (.*)$", text, re.M)
    values = numbers(losses.group(1)) if losses else []
    if len(values) != 5 or not all(math.isfinite(v) for v in values) or any(b >= a for a, b in zip(values, values[1:])):
        problems.append(f"expected five finite losses, each lower than the one before, from optim.SGD; found {values}")
    by_hand = re.search(r"^loss on the same input: (.*)$", text, re.M)
    pair = numbers(by_hand.group(1)) if by_hand else []
    if len(pair) != 2 or not pair[1] < pair[0]:
        problems.append(f"expected the update by hand to lower the loss; found {pair}")
    return problems


def building_networks(text, images):
    problems = []
    for expected in ["images [64, 1, 28, 28] Float32, labels [64]", "probabilities [64, 10]; the first rows sum to [1, 1, 1, 1, 1]",
                     "Network(\n  (hidden): Linear(in_features=784, out_features=256, bias=True)", "203,530 parameters, output [64, 10]",
                     "109,386 parameters", "fc1.bias all zero: True; fc1.weight std 0.01", "the same object as model[0]: True"]:
        if expected not in text:
            problems.append(f"expected the output {expected!r}")
    if images != 5:
        problems.append(f"expected 5 figures (the digit, view_classify before and after training, two curves); found {images}")
    accuracy = re.findall(r"^epoch 3: .* test accuracy (\d+\.\d+)%$", text, re.M)
    if not accuracy or float(accuracy[0]) < 90:
        problems.append(f"expected 90% test accuracy or more after three epochs; found {accuracy}")
    answer = re.search(r"^label (\d), predicted (\d) with p = (\d\.\d+)$", text, re.M)
    if not answer or answer.group(1) != answer.group(2):
        problems.append(f"expected the trained network to name the digit; found {answer.group(0) if answer else None}")
    return problems


if __name__ == "__main__":
    if sys.argv[1] == "--clean":
        notebook = json.load(open(sys.argv[2]))
        for cell in notebook["cells"]:
            for key in [k for k in cell.get("metadata", {}) if k.startswith("dotnet_repl_")]:
                del cell["metadata"][key]
        with open(sys.argv[3], "w") as f:
            json.dump(notebook, f, indent=1, ensure_ascii=False)
            f.write("\n")
        sys.exit(0)
    ok = check(sys.argv[1], neural_networks) & check(sys.argv[2], building_networks)
    print("notebooks: OK" if ok else "notebooks: FAILED")
    sys.exit(0 if ok else 1)
