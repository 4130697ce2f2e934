using LeNetTorchSharp.Models;
using LeNetTorchSharp.Training;
using static TorchSharp.torch;

var net = new LeNet();
Console.WriteLine(net);
using var trainer = new Trainer(net, optim.SGD(net.parameters(), 0.01, momentum: 0.9));
var x = randn(64, 1, 32, 32);
var y = randint(0, 10, [64]);
for (var i = 0; i < 3; i++)
    Console.WriteLine(trainer.Step(x, y).item<float>());
