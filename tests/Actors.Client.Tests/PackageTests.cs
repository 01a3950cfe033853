using System.Diagnostics;
using System.IO.Compression;
using System.Reflection;
using System.Xml.Linq;
using static Actors.Client.Tests.HvctlEndToEndTests;

namespace Actors.Client.Tests;

/// <summary>
/// The NuGet packages as <c>dotnet pack</c> makes them from this build (<c>--no-build</c>, so a test costs seconds,
/// not a rebuild): the SDK and its contracts with their XML docs, and hvctl as a .NET tool that installs and runs
/// outside the repository.
/// </summary>
[Collection(SiloProcessCollection.Name)]
public sealed class PackageTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("actors-package-test-");

    public void Dispose() => _work.Delete(recursive: true);

    [Theory]
    [InlineData("src/Client/Actors.Client", "Actors.Client", "M:Actors.Client.HypervisorClient.MigrateVmAsync(System.String,System.String,Actors.Grains.MigrationOptions)")]
    [InlineData("src/Grains/Actors.Grains.Abstractions", "Actors.Grains.Abstractions", "P:Actors.Grains.MigrationStatus.Downtime")]
    public async Task The_SDK_packages_carry_the_assembly_its_XML_docs_and_a_README(string project, string id, string documentedMember)
    {
        using ZipArchive package = await PackAsync(project, id);

        string[] entries = [.. package.Entries.Select(e => e.FullName)];
        Assert.Contains($"lib/net10.0/{id}.dll", entries);
        Assert.Contains("README.md", entries);
        XDocument docs = XDocument.Load(package.GetEntry($"lib/net10.0/{id}.xml")!.Open());
        XElement member = Assert.Single(docs.Descendants("member"), m => (string?)m.Attribute("name") == documentedMember);
        Assert.False(string.IsNullOrWhiteSpace(member.Value));

        XDocument nuspec = XDocument.Load(package.GetEntry($"{id}.nuspec")!.Open());
        XNamespace ns = nuspec.Root!.GetDefaultNamespace();
        XElement metadata = nuspec.Root.Element(ns + "metadata")!;
        Assert.Equal("MIT", (string?)metadata.Element(ns + "license"));
        Assert.Equal("README.md", (string?)metadata.Element(ns + "readme"));
        Assert.Equal(typeof(HypervisorClient).Assembly.GetName().Version!.ToString(3), (string?)metadata.Element(ns + "version"));
        if (id == "Actors.Client")
            Assert.Contains(metadata.Descendants(ns + "dependency"), d => (string?)d.Attribute("id") == "Actors.Grains.Abstractions");
    }

    [Fact]
    public async Task Hvctl_installs_as_a_dotnet_tool_that_runs_the_demo_outside_the_repository()
    {
        using (ZipArchive package = await PackAsync("src/Client/Hvctl", "Actors.Hvctl"))
        {
            string[] entries = [.. package.Entries.Select(e => e.FullName)];
            Assert.Contains("tools/net10.0/any/hvctl.dll", entries);
            Assert.Contains("tools/net10.0/any/guests/build/migrate-verify.elf", entries);
            Assert.Contains("tools/net10.0/any/guests/build/hello.elf", entries);
        }

        // As docs/hvctl.md says, with --source: the package just made and no other source.
        string tools = Path.Combine(_work.FullName, "tools");
        ProcessResult install = await DotnetAsync(["tool", "install", "--tool-path", tools, "--source", Path.Combine(_work.FullName, "packages"), "Actors.Hvctl"]);
        Assert.True(install.ExitCode == 0, $"{install.Out}\n{install.Error}");

        // From a directory with no repository above it: only what the package carries is there to use.
        string elsewhere = Directory.CreateDirectory(Path.Combine(_work.FullName, "elsewhere")).FullName;
        string hvctl = Path.Combine(tools, "hvctl");
        ProcessResult version = await RunToExitAsync(new ProcessStartInfo(hvctl, ["--version"]) { WorkingDirectory = elsewhere }, Limit);
        Assert.Equal((0, typeof(Actors.Hvctl.HvctlApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion),
            (version.ExitCode, version.Out.Trim()));

        // The demo finds its guest beside the installed hvctl.dll, and runs it on silos embedded in the tool.
        ProcessResult demo = await RunToExitAsync(new ProcessStartInfo(hvctl, ["demo"]) { WorkingDirectory = elsewhere }, Limit);
        Assert.True(demo.ExitCode == 0, $"exit {demo.ExitCode}\n{demo.Out}\n{demo.Error}");
    }

    /// <summary>Packs <paramref name="project"/> as this test run's build made it into the work directory; opens the package.</summary>
    private async Task<ZipArchive> PackAsync(string project, string id)
    {
        string configuration = typeof(PackageTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        string output = Path.Combine(_work.FullName, "packages");
        ProcessResult pack = await DotnetAsync(
            ["pack", Path.Combine(RepoRoot(), project), "-c", configuration, "--no-build", "--disable-build-servers", "-o", output]);
        Assert.True(pack.ExitCode == 0, $"dotnet pack {project}: exit {pack.ExitCode}\n{pack.Out}\n{pack.Error}");
        string version = typeof(HypervisorClient).Assembly.GetName().Version!.ToString(3);
        return ZipFile.OpenRead(Path.Combine(output, $"{id}.{version}.nupkg"));
    }

    private static async Task<ProcessResult> DotnetAsync(string[] args)
    {
        // From the repository, so that its global.json picks the SDK, as for the build.
        var start = new ProcessStartInfo("dotnet", args) { WorkingDirectory = RepoRoot() };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        return await RunToExitAsync(start, Limit);
    }
}
