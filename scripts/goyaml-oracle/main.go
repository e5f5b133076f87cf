// The go-yaml oracle for guestlink's schematic tests: marshals and decodes with go.yaml.in/yaml/v4 as
// the Image Factory does (yaml.Marshal; NewDecoder with KnownFields), on data read from stdin as JSON.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"go.yaml.in/yaml/v4"
)

type loader int

const (
	loaderNone loader = iota
	loaderDualBoot
	loaderSDBoot
	loaderGrub
)

var loaderNames = []string{"none", "dual-boot", "sd-boot", "grub"}

func (l loader) MarshalText() ([]byte, error) { return []byte(loaderNames[l]), nil }
func (l *loader) UnmarshalText(b []byte) error {
	for i, n := range loaderNames {
		if bytes.EqualFold([]byte(n), b) {
			*l = loader(i)
			return nil
		}
	}
	return fmt.Errorf("%s does not belong to BootloaderKind values", b)
}

type schematic struct {
	Owner         string        `yaml:"owner,omitempty"`
	Overlay       overlay       `yaml:"overlay,omitempty"`
	Customization customization `yaml:"customization"`
}

type customization struct {
	EmbeddedMachineConfiguration string     `yaml:"embeddedMachineConfiguration,omitempty"`
	ExtraKernelArgs              []string   `yaml:"extraKernelArgs,omitempty"`
	Meta                         []meta     `yaml:"meta,omitempty"`
	SystemExtensions             extensions `yaml:"systemExtensions,omitempty"`
	Bootloader                   loader     `yaml:"bootloader,omitempty"`
	SecureBoot                   secureBoot `yaml:"secureboot,omitempty"`
	DiskImage                    diskImage  `yaml:"diskImage,omitempty"`
}

type meta struct {
	Key   uint8  `yaml:"key"`
	Value string `yaml:"value"`
}

type extensions struct {
	OfficialExtensions []string `yaml:"officialExtensions,omitempty"`
}

type overlay struct {
	Image   string         `yaml:"image"`
	Name    string         `yaml:"name"`
	Options map[string]any `yaml:"options,omitempty"`
}

type secureBoot struct {
	EnrollKeys                   string `yaml:"enrollKeys,omitempty"`
	IncludeWellKnownCertificates bool   `yaml:"includeWellKnownCertificates,omitempty"`
}

type diskImage struct {
	SectorSize uint `yaml:"sectorSize,omitempty"`
}

type result struct {
	YAML  string `json:"yaml,omitempty"`
	ID    string `json:"id,omitempty"`
	Error string `json:"error,omitempty"`
}

func marshal(v any) (r result) {
	defer func() {
		if p := recover(); p != nil {
			r = result{Error: fmt.Sprint(p)}
		}
	}()
	out, err := yaml.Marshal(v)
	if err != nil {
		return result{Error: err.Error()}
	}
	sum := sha256.Sum256(out)
	return result{YAML: string(out), ID: hex.EncodeToString(sum[:])}
}

func main() {
	var in []string
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		panic(err)
	}
	out := make([]result, 0, len(in))
	for _, s := range in {
		switch os.Args[1] {
		case "strings":
			// One string in every place a schematic holds text: a sequence item, a mapping value inside a
			// sequence item, a mapping value, a map key (overlay options are sorted by key).
			out = append(out, marshal(&schematic{
				Overlay: overlay{Image: s, Name: "n", Options: map[string]any{s: s}},
				Customization: customization{
					ExtraKernelArgs: []string{s},
					Meta:            []meta{{Key: 10, Value: s}},
				},
			}))
		case "floats":
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				out = append(out, result{Error: err.Error()})
				continue
			}
			out = append(out, marshal(map[string]any{"v": f}))
		case "decode":
			dec := yaml.NewDecoder(bytes.NewReader([]byte(s)))
			dec.KnownFields(true)
			var cfg schematic
			if err := dec.Decode(&cfg); err != nil {
				out = append(out, result{Error: err.Error()})
				continue
			}
			out = append(out, marshal(&cfg))
		case "any":
			// Decode into an untyped value and marshal it back (overlay options are map[string]any).
			var v map[string]any
			if err := yaml.Unmarshal([]byte(s), &v); err != nil {
				out = append(out, result{Error: err.Error()})
				continue
			}
			out = append(out, marshal(v))
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		panic(err)
	}
}
