using System.Buffers.Binary;
using System.Text;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Tests.Data;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Serialization;

public class SafetensorsTests
{
    static byte[] File(string headerJson, int dataBytes)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        return bytes;
    }

    [Test]
    public void Tensors_and_metadata_round_trip_with_their_dtypes_shapes_and_values()
    {
        using var temp = new TempFolder();
        var path = temp.File("t.safetensors");
        var tensors = new Dictionary<string, Tensor>
        {
            ["f"] = arange(6, dtype: ScalarType.Float32).reshape(2, 3),
            ["d"] = tensor(new double[] { 1.5, -2 }),
            ["l"] = tensor(new long[] { long.MaxValue, -1 }),
            ["b"] = tensor(new byte[] { 0, 255 }),
            ["scalar"] = tensor(3.25f),
        };
        Safetensors.Save(path, tensors, new Dictionary<string, string> { ["note"] = "hello" });

        using var loaded = Safetensors.Load(path);
        Assert.That(loaded.Tensors.Select(t => t.Key), Is.EqualTo(tensors.Keys));
        foreach (var (name, original) in tensors)
        {
            Assert.That(loaded[name].dtype, Is.EqualTo(original.dtype), name);
            Assert.That(loaded[name].shape, Is.EqualTo(original.shape), name);
            Assert.That(loaded[name].equal(original).all().item<bool>(), Is.True, name);
        }
        Assert.That(loaded.Metadata["note"], Is.EqualTo("hello"));
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(System.IO.File.ReadAllBytes(path));
        Assert.That(headerLength % 8, Is.Zero, "data section aligned to 8 bytes");
    }

    [Test]
    public void Model_weights_round_trip_under_PyTorch_keys()
    {
        using var temp = new TempFolder();
        using var a = new LeNet();
        using var b = new LeNet();
        Safetensors.SaveModel(a, temp.File("w.safetensors"));
        Safetensors.LoadModel(b, temp.File("w.safetensors"));
        using var x = randn(2, 1, 32, 32);
        Assert.That(b.forward(x).allclose(a.forward(x)), Is.True);
        using var contents = Safetensors.Load(temp.File("w.safetensors"));
        Assert.That(contents.Tensors.Select(t => t.Key), Is.EqualTo(a.state_dict().Keys));
    }

    [Test]
    public void Weights_of_another_architecture_are_rejected_naming_the_parameter_and_both_shapes()
    {
        using var temp = new TempFolder();
        using var small = new LeNet(new LeNetOptions { KernelSize = 3 });
        Safetensors.SaveModel(small, temp.File("w.safetensors"));
        using var net = new LeNet();
        var before = net.get_parameter("conv1.weight")!.clone();

        var error = Assert.Throws<WeightsException>(() => Safetensors.LoadModel(net, temp.File("w.safetensors")));

        Assert.That(error!.Message, Is.EqualTo($"{temp.File("w.safetensors")}: parameter 'conv1.weight': expected shape [6, 1, 5, 5] for LeNet, found [6, 1, 3, 3] (weights of another architecture?)"));
        Assert.That(net.get_parameter("conv1.weight")!.equal(before).all().item<bool>(), Is.True, "nothing was loaded");
    }

    [Test]
    public void Missing_and_extra_tensors_are_named()
    {
        using var temp = new TempFolder();
        using var mlp = new Mlp(hidden: [256, 64]);
        Safetensors.SaveModel(mlp, temp.File("w.safetensors"));
        using var deeper = new Mlp();
        Assert.That(Assert.Throws<WeightsException>(() => Safetensors.LoadModel(deeper, temp.File("w.safetensors")))!.Message,
            Does.Contain("parameter 'fc1.weight': expected shape [128, 784] for Mlp, found [256, 784]"));
        Safetensors.Save(temp.File("extra.safetensors"), [.. mlp.state_dict(), new("fc9.bias", zeros(1))]);
        Assert.That(Assert.Throws<WeightsException>(() => Safetensors.LoadModel(mlp, temp.File("extra.safetensors")))!.Message,
            Does.EndWith("the file does not hold Mlp's parameters: unexpected keys fc9.bias [1] (weights of another architecture?)"));
        using var more = new Mlp(hidden: [256, 64, 32]);
        Assert.That(Assert.Throws<WeightsException>(() => Safetensors.LoadModel(more, temp.File("w.safetensors")))!.Message,
            Does.EndWith("the file does not hold Mlp's parameters: missing keys fc4.weight [10, 32], fc4.bias [10] (weights of another architecture?)"));
    }

    [TestCase("", 0, "expected at least 8 bytes")]
    [TestCase("{}", -1, "header length")]
    [TestCase("{not json", 0, "the header is not valid JSON")]
    [TestCase("[1, 2]", 0, "expected the header to be a JSON object, found Array")]
    [TestCase("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 4, "data_offsets [0, 8] lie outside the 4-byte data section")]
    [TestCase("{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8, "shape [3] of F32 needs 12 bytes, data_offsets give 8")]
    [TestCase("{\"a\": {\"dtype\": \"F32\", \"shape\": [2147483647, 2147483647, 2147483647], \"data_offsets\": [0, 8]}}", 8, "needs more than the file's bytes")]
    [TestCase("{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", 4, "shape entries must be non-negative integers, found -1")]
    [TestCase("{\"a\": {\"dtype\": \"C64\", \"shape\": [1], \"data_offsets\": [0, 8]}}", 8, "dtype C64 is not supported")]
    [TestCase("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 8, "tensor 'b' starts at data offset 0, expected 4")]
    [TestCase("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 12, "the tensors cover 4 data bytes, but the data section has 12")]
    [TestCase("{\"a\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4, "expected an object with a string dtype, a shape array and a data_offsets array")]
    public void Malformed_files_are_rejected_with_the_problem_named(string header, int dataBytes, string expected)
    {
        byte[] bytes = header.Length == 0 ? new byte[3] : File(header, Math.Max(dataBytes, 0));
        if (dataBytes < 0) BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        var error = Assert.Throws<WeightsException>(() => Safetensors.Load(bytes, "bad.safetensors"));
        Assert.That(error!.Message, Does.StartWith("bad.safetensors: "));
        Assert.That(error.Message, Does.Contain(expected));
    }
}
