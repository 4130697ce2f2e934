using LeNetTorchSharp.Data;

namespace LeNetTorchSharp.Tests.Data;

public class IdxFileTests
{
    [Test]
    public void Reads_raw_images_with_their_shape_and_bytes()
    {
        using var temp = new TempFolder();
        var path = temp.File("images");
        File.WriteAllBytes(path, IdxFiles.Images(3));

        var idx = IdxFile.Read(path, dimensions: 3);

        Assert.That(idx.Shape, Is.EqualTo(new[] { 3, 28, 28 }));
        Assert.That(idx.Data, Has.Length.EqualTo(3 * 28 * 28));
        Assert.That(idx.Data[(2 * 28 + 5) * 28 + 9], Is.EqualTo((byte)((2 * 7 + 5 * 3 + 9) % 256)));
    }

    [Test]
    public void Reads_gzip_files_to_the_same_result_as_raw()
    {
        using var temp = new TempFolder();
        var raw = IdxFiles.Labels(0, 9, 4, 2);
        File.WriteAllBytes(temp.File("labels"), raw);
        File.WriteAllBytes(temp.File("labels.gz"), IdxFiles.Gzip(raw));

        var fromRaw = IdxFile.Read(temp.File("labels"), 1);
        var fromGz = IdxFile.Read(temp.File("labels.gz"), 1);

        Assert.That(fromGz.Shape, Is.EqualTo(fromRaw.Shape));
        Assert.That(fromGz.Data, Is.EqualTo(new byte[] { 0, 9, 4, 2 }));
    }

    [Test]
    public void Truncated_file_names_the_file_and_the_missing_bytes()
    {
        using var temp = new TempFolder();
        var path = temp.File("train-images-idx3-ubyte");
        File.WriteAllBytes(path, IdxFiles.Images(2)[..^100]);

        var error = Assert.Throws<DatasetException>(() => IdxFile.Read(path, 3));
        Assert.That(error!.Message, Is.EqualTo($"{path}: header [2, 28, 28] means 1584 bytes, found 1484 bytes (truncated: 100 bytes missing)"));
        Assert.That(error.Path, Is.EqualTo(path));
    }

    [Test]
    public void Truncated_gzip_names_the_missing_bytes()
    {
        using var temp = new TempFolder();
        var path = temp.File("images.gz");
        File.WriteAllBytes(path, IdxFiles.Gzip(IdxFiles.Images(2)[..^100]));

        var error = Assert.Throws<DatasetException>(() => IdxFile.Read(path, 3));
        Assert.That(error!.Message, Is.EqualTo($"{path}: header [2, 28, 28] means 1568 data bytes, found only 1468 (truncated: 100 bytes missing)"));
    }

    [Test]
    public void Trailing_bytes_are_rejected()
    {
        using var temp = new TempFolder();
        var path = temp.File("labels");
        File.WriteAllBytes(path, [.. IdxFiles.Labels(1, 2), 7]);
        var error = Assert.Throws<DatasetException>(() => IdxFile.Read(path, 1));
        Assert.That(error!.Message, Does.EndWith("header [2] means 10 bytes, found 11 bytes (1 trailing bytes)"));
    }

    [Test]
    public void Wrong_magic_number_names_expected_and_found()
    {
        using var temp = new TempFolder();
        var path = temp.File("train-images-idx3-ubyte");
        File.WriteAllBytes(path, IdxFiles.Labels(1, 2, 3)); // a labels file where images belong

        var error = Assert.Throws<DatasetException>(() => IdxFile.Read(path, 3));
        Assert.That(error!.Message, Is.EqualTo($"{path}: expected magic number 0x00000803 (unsigned-byte images, 3 dimensions), found 0x00000801"));
    }

    [Test]
    public void Empty_file_is_rejected_as_empty()
    {
        using var temp = new TempFolder();
        var path = temp.File("t10k-labels-idx1-ubyte");
        File.WriteAllBytes(path, []);
        var error = Assert.Throws<DatasetException>(() => IdxFile.Read(path, 1));
        Assert.That(error!.Message, Is.EqualTo($"{path}: expected an IDX header starting with magic number 0x00000801, found an empty file"));
    }

    [Test]
    public void A_header_claiming_2_pow_31_images_is_rejected_before_allocating()
    {
        using var temp = new TempFolder();
        var path = temp.File("images");
        File.WriteAllBytes(path, IdxFiles.Encode(0x803, [int.MaxValue, 28, 28], new byte[16]));
        var error = Assert.Throws<DatasetException>(() => IdxFile.Read(path, 3));
        Assert.That(error!.Message, Does.Contain("refusing to allocate"));
    }

    [Test]
    public void Negative_dimension_is_rejected()
    {
        using var temp = new TempFolder();
        var path = temp.File("labels");
        File.WriteAllBytes(path, IdxFiles.Encode(0x801, [-5], []));
        var error = Assert.Throws<DatasetException>(() => IdxFile.Read(path, 1));
        Assert.That(error!.Message, Does.EndWith("dimension 0 is negative (-5)"));
    }

    [Test]
    public void Corrupt_gzip_is_rejected_naming_the_file()
    {
        using var temp = new TempFolder();
        var path = temp.File("labels.gz");
        File.WriteAllBytes(path, [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        var error = Assert.Throws<DatasetException>(() => IdxFile.Read(path, 1));
        Assert.That(error!.Message, Does.StartWith($"{path}: not a valid gzip file"));
    }
}
