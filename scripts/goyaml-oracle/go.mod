module oracle

go 1.19

require go.yaml.in/yaml/v4 v4.0.0

replace go.yaml.in/yaml/v4 => ../yaml
