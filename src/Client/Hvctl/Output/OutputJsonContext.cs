using System.Text.Json.Serialization;

namespace Actors.Hvctl.Output;

/// <summary>
/// The JSON of every view, generated at build time: camelCase field names, enums by name, nulls written (every
/// field is always there, so a program need not test for its presence), times as ISO 8601 UTC.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(VmView))]
[JsonSerializable(typeof(IReadOnlyList<VmView>))]
[JsonSerializable(typeof(VmBusView))]
[JsonSerializable(typeof(IReadOnlyList<HostView>))]
[JsonSerializable(typeof(IReadOnlyList<DiskView>))]
[JsonSerializable(typeof(SwitchView))]
[JsonSerializable(typeof(IReadOnlyList<SwitchView>))]
[JsonSerializable(typeof(IReadOnlyList<MigrationView>))]
internal sealed partial class OutputJsonContext : JsonSerializerContext;
